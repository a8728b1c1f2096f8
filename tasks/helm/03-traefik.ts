// Step 3: Traefik v3 from its own chart (pinned), with a "dicom" entrypoint on
// 11112 next to websecure (443), both on its LoadBalancer Service.
import { waitForCrds, waitForRollout } from "../lib/kube-wait.ts";
import { log } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { traefikRelease, valuesFiles } from "./releases.ts";

/** The CRDs the orthanc chart's traefik objects need. */
export const traefikCrds = ["ingressroutes.traefik.io", "ingressroutetcps.traefik.io", "tlsoptions.traefik.io", "tlsstores.traefik.io"];

export const task: Task = {
  id: "helm/03-traefik",
  cluster: true,
  title: "Traefik (ingress: 443 HTTPS, 11112 DICOM-TLS)",
  summary:
    "Installs or upgrades Traefik from oci://ghcr.io/traefik/helm/traefik at the pinned version with helm/traefik.values.yaml (adds the dicom entrypoint on 11112, exposed on the LoadBalancer like websecure on 443), then waits for its CRDs and its Deployment. With --skip-upstream: installs nothing, only checks that Traefik's CRDs exist.",
  flags: skipUpstreamFlag,
  run: async (ctx) => {
    const release = traefikRelease(ctx.settings);
    if (skipsUpstream(ctx)) return skipUpstream(ctx, `Traefik (chart ${release.chart} ${release.version})`, traefikCrds);
    if (ctx.dryRun) log.info(`values: ${valuesFiles.traefik}`);
    await ctx.helm.upgradeInstall(release);
    await waitForCrds(ctx.kube, traefikCrds, ctx.settings.timeoutSeconds);
    await waitForRollout(ctx.kube, "Deployment", release.release, release.namespace, ctx.settings.timeoutSeconds);
  },
};

if (import.meta.main) await main(task.id, [task]);
