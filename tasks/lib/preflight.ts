// Preflight: before a task changes anything, check that the tools are there
// and recent enough, a kube context is selected, the API server answers, it is
// recent enough, and the CRDs the task's objects need exist. Each failure has
// its own exit code and says what to do.
import { TaskError } from "./errors.ts";
import type { Kube } from "./kube.ts";
import { log, style } from "./log.ts";
import { pins } from "./settings.ts";
import { requireTool } from "./tools.ts";
import { compareVersions } from "./version.ts";

export interface ToolNeed {
  name: string;
  minimum: string;
}

export interface PreflightNeeds {
  tools?: readonly ToolNeed[];
  /** Check the kube context, reachability and server version (default true). */
  cluster?: boolean;
  /** CRD names (e.g. "ingressroutes.traefik.io") that must already exist. */
  crds?: readonly string[];
  /** Hint for missing CRDs: which step or command installs them. */
  crdHint?: string;
  /** Oldest Kubernetes accepted (default pins.minKubernetes). */
  minKubernetes?: string;
}

export const kubeTools: readonly ToolNeed[] = [
  { name: "kubectl", minimum: pins.minKubectl },
  { name: "helm", minimum: pins.minHelm },
];

export interface PreflightReport {
  tools: Record<string, string>;
  context?: string;
  serverVersion?: string;
}

export async function preflight(kube: Kube, needs: PreflightNeeds = {}): Promise<PreflightReport> {
  const report: PreflightReport = { tools: {} };
  for (const tool of needs.tools ?? kubeTools) {
    const found = await requireTool(tool.name, tool.minimum);
    report.tools[tool.name] = found.version;
    log.ok(`${tool.name} ${found.version} (${found.path})`);
  }
  if (needs.cluster === false) return report;
  if (kube.dryRun) {
    log.info(`${style.yellow("[dry-run]")} would check: kube context set, API server reachable, Kubernetes ≥ ${needs.minKubernetes ?? pins.minKubernetes}` +
      (needs.crds?.length ? `, CRDs ${needs.crds.join(", ")}` : ""));
    return report;
  }

  const cluster = await checkCluster(kube, needs.minKubernetes);
  report.context = cluster.context;
  report.serverVersion = cluster.version;
  log.ok(`kube context ${cluster.context}`);
  log.ok(`API server reachable, Kubernetes ${cluster.version}`);

  if (needs.crds?.length) {
    await requireCrds(kube, needs.crds, needs.crdHint ?? "install the controller that owns them first");
    log.ok(`CRDs present: ${needs.crds.length}`);
  }
  return report;
}

/** The selected kube context exists, its API server answers, and runs at least `minimum`. */
export async function checkCluster(kube: Kube, minimum: string = pins.minKubernetes): Promise<{ context: string; version: string }> {
  const context = await kube.contextName();
  if (!context) {
    throw new TaskError(
      kube.options.context ? `kube context "${kube.options.context}" does not exist in the kubeconfig` : "no kube context is selected",
      {
        code: "kubeContext",
        hint: "pick one with `kubectl config use-context NAME` (list: `kubectl config get-contexts`), or pass --context NAME",
      },
    );
  }
  const version = await kube.serverVersion();
  if (compareVersions(version, minimum) < 0) {
    throw new TaskError(`the cluster runs Kubernetes ${version}; korthweb needs ${minimum} or newer`, {
      code: "serverTooOld",
      hint: "upgrade the cluster, or use a newer one (Flux 2.9 and the manifests here target current APIs only)",
    });
  }
  return { context, version };
}

/** Throws missingCrd naming the CRDs of `names` the cluster lacks. */
export async function requireCrds(kube: Kube, names: readonly string[], hint: string): Promise<void> {
  const missing = await kube.missingCrds(names);
  if (missing.length > 0) throw new TaskError(`missing CustomResourceDefinitions: ${missing.join(", ")}`, { code: "missingCrd", hint });
}
