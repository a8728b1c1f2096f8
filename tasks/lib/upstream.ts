// --skip-upstream (env KORTHWEB_SKIP_UPSTREAM=1): install only what is ours.
// Upstream charts (Traefik, PostgreSQL, Istio, cert-manager, monitoring, Flux)
// come from registries on the internet, and their controllers would not run
// on a simulated cluster anyway. With the option, a step that installs one
// says so, checks that the CRDs our objects need are already there (the
// simulated cluster installs them, see docs/cluster.md), and does not wait for
// workloads or conditions only that upstream controller would produce.
// Everything of ours (namespaces, Secrets, the orthanc chart, manifests) is
// still applied for real.
import { TaskError } from "./errors.ts";
import { log, style } from "./log.ts";
import type { FlagSpec, TaskContext } from "./task.ts";

export const skipUpstreamEnv = "KORTHWEB_SKIP_UPSTREAM";

export const skipUpstreamFlag: Record<string, FlagSpec> = {
  "skip-upstream": {
    type: "boolean",
    description: `do not install upstream charts (they need the internet); for the simulated test cluster, docs/cluster.md [env ${skipUpstreamEnv}=1]`,
  },
};

export function skipsUpstream(ctx: Pick<TaskContext, "flags">, env: NodeJS.ProcessEnv = process.env): boolean {
  return ctx.flags["skip-upstream"] === true || env[skipUpstreamEnv] === "1";
}

/**
 * Logs that `what` was skipped and checks the CRDs it would have brought are present
 * (missingCrd when not: nothing of ours that needs them could be applied).
 */
export async function skipUpstream(ctx: TaskContext, what: string, crds: readonly string[] = []): Promise<void> {
  log.warn(`${style.yellow("[skip-upstream]")} not installing ${what}`);
  if (ctx.dryRun || crds.length === 0) return;
  const missing = await ctx.kube.missingCrds(crds);
  if (missing.length > 0) {
    throw new TaskError(`--skip-upstream: ${what} is not installed and the CRDs it brings are missing: ${missing.join(", ")}`, {
      code: "missingCrd",
      hint: "use the simulated cluster (make cluster-up installs them), or install without --skip-upstream",
    });
  }
  log.ok(`CRDs present: ${crds.join(", ")}`);
}

/** Logs that a wait or check needing an upstream controller is skipped; true when it is (callers return). */
export function skippedForUpstream(ctx: TaskContext, what: string): boolean {
  if (!skipsUpstream(ctx)) return false;
  log.warn(`${style.yellow("[skip-upstream]")} not ${what}`);
  return true;
}
