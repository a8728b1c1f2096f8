// Step 5 of `make local-up`: the TLS terminator standing in for Traefik/Istio.
import { main } from "../../tasks/lib/task.ts";
import { proxyStep } from "./stack.ts";
import { startStep } from "./step.ts";

export const task = startStep(
  "local/05-proxy",
  "TLS terminator: haproxy, standing in for Traefik/Istio, on the HTTPS and DICOM-TLS ports",
  "haproxy terminates TLS 1.2+ with the chart-generated certificate on 127.0.0.1:443 (HTTPS → Orthanc HTTP) and 127.0.0.1:11112 (TLS → Orthanc DICOM).",
  "start haproxy",
  proxyStep,
);

if (import.meta.main) await main(task.id, [task]);
