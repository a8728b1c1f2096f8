// Step 2: the Flux controllers at the pinned version: the cluster's
// flux-system folder (the multi-tenancy lockdown as kustomize patches, in
// Git) built over the release's own install.yaml (the flux CLI is not
// needed), applied server-side, then waited for: CRDs established, the four
// controllers rolled out.
import { log, style } from "../lib/log.ts";
import { repoRoot } from "../lib/paths.ts";
import { waitForCrds, waitForRollout } from "../lib/kube-wait.ts";
import { pins } from "../lib/settings.ts";
import { main, type Task } from "../lib/task.ts";
import { skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { fluxControllers, fluxCrds, loadFluxManifest } from "./flux.ts";
import { fluxSystemPath, lockdownFlags, lockedDownFlux, noRightsServiceAccount } from "./flux-lockdown.ts";
import { clusterPathFrom, pathFlag } from "./options.ts";
import { bootstrap } from "./tree.ts";

export const task: Task = {
  id: "gitops/02-flux",
  cluster: true,
  title: `Flux ${pins.flux.version} controllers`,
  summary:
    `Checks that Flux's install.yaml (pins.flux: ${pins.flux.installManifest}, or --flux-manifest FILE) really is ${pins.flux.version}, builds the cluster's flux-system folder ` +
    "(<--path>/flux-system: the multi-tenancy lockdown as kustomize patches, committed) over it, refuses the result unless every controller runs locked down (no cross-namespace references, no remote bases, " +
    `a default service account without rights: ${noRightsServiceAccount}), applies it server-side, then waits for the Flux CRDs and the source, kustomize, helm and notification controllers. ` +
    "Re-running re-applies the same objects.",
  flags: {
    "flux-manifest": { type: "string", description: `local copy of Flux's install.yaml (default: download ${pins.flux.installManifest})` },
    ...pathFlag,
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
    let installed: readonly string[] = fluxControllers;
    const folder = fluxSystemPath(clusterPathFrom(ctx.flags, repoRoot));
    if (ctx.dryRun && !file) {
      log.info(`${style.yellow("[dry-run]")} would download ${pins.flux.installManifest}, build ${folder} over it and apply the result (server-side), refused unless locked down: ${Object.entries(lockdownFlags).map(([controller, flags]) => `${controller} ${flags.join(" ")}`).join("; ")}`);
    } else {
      const manifest = await loadFluxManifest(file);
      const objects = await lockedDownFlux(repoRoot, clusterPathFrom(ctx.flags, repoRoot), manifest);
      installed = fluxControllers.filter((controller) => objects.some((o) => o.kind === "Deployment" && o.metadata?.name === controller));
      for (const left of fluxControllers.filter((controller) => !installed.includes(controller))) log.info(`${manifest.origin} has no ${left}: not installed`);
      for (const [controller, flags] of Object.entries(lockdownFlags)) log.info(`lockdown (${folder}): ${controller} ${flags.join(" ")}`);
      const running = await ctx.kube.get<{ metadata?: { labels?: Record<string, string> } }>("deployment", "source-controller", bootstrap.namespace);
      const runningVersion = running?.metadata?.labels?.["app.kubernetes.io/version"];
      if (runningVersion && runningVersion !== pins.flux.version) log.warn(`Flux ${runningVersion} is installed; applying ${pins.flux.version} over it`);
      if (ctx.dryRun) log.info(`${style.yellow("[dry-run]")} would apply (server-side) ${manifest.origin} built with ${folder}: ${objects.length} objects`);
      else await ctx.kube.apply(objects, `Flux ${pins.flux.version} (locked down)`);
    }
    await waitForCrds(ctx.kube, fluxCrds, ctx.settings.timeoutSeconds);
    for (const controller of installed) await waitForRollout(ctx.kube, "Deployment", controller, bootstrap.namespace, ctx.settings.timeoutSeconds);
  },
};

if (import.meta.main) await main(task.id, [task]);
