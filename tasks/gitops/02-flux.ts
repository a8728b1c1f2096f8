// Step 2: the Flux controllers at the pinned version, from the release's own
// install.yaml (the flux CLI is not needed) locked down for multi-tenancy
// (flux-lockdown.ts), applied server-side, then waited for: CRDs established,
// the four controllers rolled out.
import { log, style } from "../lib/log.ts";
import { waitForCrds, waitForRollout } from "../lib/kube-wait.ts";
import { pins } from "../lib/settings.ts";
import { main, type Task } from "../lib/task.ts";
import { skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { fluxControllers, fluxCrds, loadFluxManifest } from "./flux.ts";
import { lockDownFlux, lockdownFlags, noRightsServiceAccount } from "./flux-lockdown.ts";
import { bootstrap } from "./tree.ts";

export const task: Task = {
  id: "gitops/02-flux",
  cluster: true,
  title: `Flux ${pins.flux.version} controllers`,
  summary:
    `Applies Flux's install.yaml for ${pins.flux.version} (pins.flux: ${pins.flux.installManifest}, or --flux-manifest FILE) with server-side apply, ` +
    "after checking it really is that version and adding the multi-tenancy lockdown flags to its controllers (no cross-namespace references, no remote bases, " +
    `a default service account without rights: ${noRightsServiceAccount}), then waits for the Flux CRDs and the source, kustomize, helm and notification controllers. ` +
    "Re-running re-applies the same objects.",
  flags: {
    "flux-manifest": { type: "string", description: `local copy of Flux's install.yaml (default: download ${pins.flux.installManifest})` },
    ...skipUpstreamFlag,
  },
  run: async (ctx) => {
    if (skipsUpstream(ctx)) {
      // The namespace install.yaml would have made (labelled as it labels it): the Git source and entry Kustomization live there.
      const labels = { "app.kubernetes.io/instance": bootstrap.namespace, "app.kubernetes.io/part-of": "flux" };
      await ctx.kube.apply([{ apiVersion: "v1", kind: "Namespace", metadata: { name: bootstrap.namespace, labels } }], `namespace ${bootstrap.namespace}`);
      return skipUpstream(ctx, `Flux ${pins.flux.version} controllers (${pins.flux.installManifest})`, fluxCrds);
    }
    const file = typeof ctx.flags["flux-manifest"] === "string" ? ctx.flags["flux-manifest"] : undefined;
    if (ctx.dryRun && !file) {
      log.info(`${style.yellow("[dry-run]")} would download ${pins.flux.installManifest} and apply it (server-side), locked down: ${Object.entries(lockdownFlags).map(([controller, flags]) => `${controller} ${flags.join(" ")}`).join("; ")}`);
    } else {
      const manifest = await loadFluxManifest(file);
      const objects = lockDownFlux(manifest.objects);
      for (const [controller, flags] of Object.entries(lockdownFlags)) log.info(`lockdown: ${controller} ${flags.join(" ")}`);
      const running = await ctx.kube.get<{ metadata?: { labels?: Record<string, string> } }>("deployment", "source-controller", bootstrap.namespace);
      const runningVersion = running?.metadata?.labels?.["app.kubernetes.io/version"];
      if (runningVersion && runningVersion !== pins.flux.version) log.warn(`Flux ${runningVersion} is installed; applying ${pins.flux.version} over it`);
      if (ctx.dryRun) log.info(`${style.yellow("[dry-run]")} would apply (server-side) ${manifest.origin}: ${objects.length} objects`);
      else await ctx.kube.apply(objects, `Flux ${pins.flux.version} (locked down)`);
    }
    await waitForCrds(ctx.kube, fluxCrds, ctx.settings.timeoutSeconds);
    for (const controller of fluxControllers) await waitForRollout(ctx.kube, "Deployment", controller, bootstrap.namespace, ctx.settings.timeoutSeconds);
  },
};

if (import.meta.main) await main(task.id, [task]);
