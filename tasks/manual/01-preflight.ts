// Step 1: before anything changes, check the tools, the kube context, the API
// server and its version, and that the settings agree with the committed YAML
// (the manual approach applies files rendered for one domain, namespace and
// release: other values need a re-render, not a flag).
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { TaskError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { requireNamespaceClaim } from "../lib/namespace-claim.ts";
import { kubeTools, preflight } from "../lib/preflight.ts";
import type { Settings } from "../lib/settings.ts";
import { main, type Task } from "../lib/task.ts";
import { files, orthancRelease } from "./layout.ts";
import { checkIstioctl, istioInstaller, installerFlag } from "./istio-installer.ts";
import { renderCommand } from "./render.ts";
import { show } from "./apply.ts";

/** The domain the committed YAML was rendered for (manual/05-orthanc/orthanc.values.yaml). */
export function committedDomain(path: string = files.orthancValues): string {
  const values = parse(readFileSync(path, "utf8")) as { domain?: unknown };
  if (typeof values.domain !== "string") throw new TaskError(`${show(path)} has no domain`, { code: "invalidValues" });
  return values.domain;
}

/** Settings the committed YAML cannot follow; each with what to do instead. */
export function settingsMismatches(settings: Settings, domain = committedDomain()): string[] {
  const out: string[] = [];
  if (settings.domain !== domain) out.push(`--domain ${settings.domain}: the manual YAML serves ${domain} (set domain in ${show(files.orthancValues)} and dnsNames in ${show(files.caChain)}, then ${renderCommand})`);
  if (settings.namespaces.orthanc !== orthancRelease.namespace) out.push(`--namespace ${settings.namespaces.orthanc}: the manual YAML is rendered for namespace ${orthancRelease.namespace}`);
  if (settings.releases.orthanc !== orthancRelease.name) out.push(`--release ${settings.releases.orthanc}: the manual YAML is rendered for release ${orthancRelease.name}`);
  return out;
}

export const task: Task = {
  id: "manual/01-preflight",
  cluster: true,
  title: "Preflight: tools, kube context, cluster version, settings",
  summary:
    "Checks that kubectl and helm (and istioctl 1.30 with ISTIO_INSTALLER=istioctl) are installed, that a kube context is selected and its API server runs Kubernetes 1.33 or newer, that --domain/--namespace/--release match the committed YAML under manual/, and that namespace orthanc is not the helm approach's (label korthweb.io/approach).",
  flags: installerFlag,
  run: async (ctx) => {
    const mismatches = settingsMismatches(ctx.settings);
    if (mismatches.length > 0) {
      throw new TaskError(`the settings do not match the committed manual YAML:\n    ${mismatches.join("\n    ")}`, {
        code: "usage",
        hint: "the manual approach applies files from Git: change them (and re-render), or drop the flag",
      });
    }
    const installer = istioInstaller(ctx.flags);
    await preflight(ctx.kube, { tools: kubeTools });
    await requireNamespaceClaim(ctx.kube, orthancRelease.namespace, "manual");
    if (installer === "istioctl") await checkIstioctl(ctx.dryRun);
    log.ok(`Istio installer: ${installer}`);
  },
};

if (import.meta.main) await main(task.id, [task]);
