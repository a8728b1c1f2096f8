// For `make bench` (smoke/bench-cli.ts reaches it as a named entry point,
// proving-ground/checks/import-graph.ts): the cost of mutual TLS is measured
// against a second haproxy in front of the same Orthanc(s), with the same
// certificate and TLS policy but no client certificate, which only the local
// stack can start. It runs for the bench and stops after it; the stack itself
// never offers a port without client authentication.
import type { Settings } from "../../tasks/lib/settings.ts";
import { localLayout } from "./layout.ts";
import { startTlsOnlyProxy } from "./proxy.ts";
import { loadLocalSettings } from "./settings.ts";
import { readTargetFile, renderedPolicy } from "./stack.ts";

export async function startTlsOnlyComparison(settings: Settings): Promise<{ port: number; stop: () => Promise<void> }> {
  const local = loadLocalSettings(settings, {});
  const layout = localLayout(local.dir);
  const file = readTargetFile(layout.target);
  const orthancs = file?.instances ?? (file ? [file.direct] : []);
  return startTlsOnlyProxy(layout, orthancs, renderedPolicy(layout, local).dicom);
}
