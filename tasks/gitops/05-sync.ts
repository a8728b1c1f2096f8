// Step 5: reconcile now rather than at the next interval — the fork is
// fetched again and every Flux Kustomization that exists re-applies.
import { log, style } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { skipsUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { gitopsTree, selectedTenants } from "./context.ts";
import { fluxResources, reconcileAnnotation } from "./flux.ts";
import { pathFlag } from "./options.ts";
import { refId, type Ref } from "./tree.ts";
import { applyWithoutFlux } from "./without-flux.ts";

export const task: Task = {
  id: "gitops/05-sync",
  cluster: true,
  title: "Sync now",
  summary: `Sets ${reconcileAnnotation} on the GitRepository (and the tenants' copies of it) and on every Flux Kustomization of the tree that already exists, so Flux fetches and applies now.`,
  flags: { ...pathFlag, ...skipUpstreamFlag },
  run: async (ctx) => {
    const tree = await gitopsTree(ctx);
    if (skipsUpstream(ctx)) return applyWithoutFlux(ctx, tree, selectedTenants(ctx, tree));
    const stamp = new Date().toISOString();
    // The fork (the bootstrap's GitRepository and the tenants' copies), then every Kustomization.
    const targets: { resource: string; ref: Ref }[] = [
      ...tree.repositories.map((ref) => ({ resource: fluxResources.gitRepository, ref })),
      ...tree.units.map((unit) => ({ resource: fluxResources.kustomization, ref: unit.ref })),
    ];
    for (const { resource, ref } of targets) {
      const args = ["annotate", resource, ref.name, "-n", ref.namespace, "--overwrite", `${reconcileAnnotation}=${stamp}`];
      if (ctx.dryRun) {
        log.info(`${style.yellow("[dry-run]")} would run: kubectl ${args.join(" ")}`);
        continue;
      }
      if (!(await ctx.kube.get(resource, ref.name, ref.namespace))) {
        log.info(`${resource.split(".")[0]} ${refId(ref)} not created yet (Flux will)`);
        continue;
      }
      await ctx.kube.kubectl(args, { silent: true });
      log.ok(`requested reconciliation of ${resource.split(".")[0]} ${refId(ref)}`);
    }
  },
};

if (import.meta.main) await main(task.id, [task]);
