// Step 6: wait until everything the tree defines is Ready, in dependency
// order: each Flux Kustomization's HelmReleases, then the Kustomization
// itself (infrastructure first, then each tenant). A failure names the
// object and Flux's own reason (install failed, dependency not ready, …).
import { waitForCondition, waitForRollout } from "../lib/kube-wait.ts";
import { main, type Task } from "../lib/task.ts";
import { skippedForUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { gitopsTree, selectedTenants } from "./context.ts";
import { fluxResources } from "./flux.ts";
import { pathFlag } from "./options.ts";
import { dependencyOrder, refId, type FluxTree, type HelmReleaseInfo, type Ref } from "./tree.ts";
import { ourDeployments } from "./without-flux.ts";

export interface WaitItem {
  resource: string;
  ref: Ref;
}

/** What to wait for, in order: per Kustomization (dependencies first), its HelmReleases (dependencies first), then it. Other tenants' units are skipped. */
export function waitPlan(tree: FluxTree, tenantNames: readonly string[]): WaitItem[] {
  const skipped = new Set(tree.tenants.filter((t) => !tenantNames.includes(t.name)).flatMap((t) => (t.unit ? [refId(t.unit.ref)] : [])));
  const plan: WaitItem[] = [];
  for (const unit of dependencyOrder(tree.units)) {
    if (skipped.has(refId(unit.ref))) continue;
    const releases: HelmReleaseInfo[] = tree.releases.filter((release) => refId(release.unit) === refId(unit.ref));
    for (const release of dependencyOrder(releases)) plan.push({ resource: fluxResources.helmRelease, ref: release.ref });
    plan.push({ resource: fluxResources.kustomization, ref: unit.ref });
  }
  return plan;
}

export const task: Task = {
  id: "gitops/06-wait",
  cluster: true,
  title: "Wait for every Kustomization and HelmRelease to be Ready",
  summary:
    "Follows the tree in dependency order (infrastructure controllers, configs, then each tenant) and waits for each HelmRelease and Flux Kustomization to report Ready=True, " +
    "with a progress line showing Flux's current reason. Each wait may take --timeout seconds.",
  flags: { ...pathFlag, ...skipUpstreamFlag },
  run: async (ctx) => {
    const tree = await gitopsTree(ctx);
    if (skippedForUpstream(ctx, "waiting for Flux to report Ready (no Flux controllers); waiting for the tenants' Orthanc instead")) {
      for (const deployment of ourDeployments(selectedTenants(ctx, tree))) await waitForRollout(ctx.kube, "Deployment", deployment.name, deployment.namespace, ctx.settings.timeoutSeconds);
      return;
    }
    const tenants = selectedTenants(ctx, tree).map((tenant) => tenant.name);
    for (const item of waitPlan(tree, tenants)) {
      await waitForCondition(ctx.kube, item.resource, item.ref.name, item.ref.namespace, ctx.settings.timeoutSeconds);
    }
  },
};

if (import.meta.main) await main(task.id, [task]);
