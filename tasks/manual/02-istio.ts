// Step 2: Istio. The control plane (CRDs, CNI node agent, istiod) from Istio's
// Helm charts, or with istioctl and the IstioOperator file; then the ingress
// gateway from the gateway chart (both ways), whose LoadBalancer Service
// exposes 443 and 11112.
import { run } from "../lib/exec.ts";
import { waitForCrds } from "../lib/kube-wait.ts";
import { log, style } from "../lib/log.ts";
import { main, type Task, type TaskContext } from "../lib/task.ts";
import { skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { applyFile, show, waitForWorkload } from "./apply.ts";
import { checkIstioctl, installerFlag, istioInstaller } from "./istio-installer.ts";
import { files, releases, workloads } from "./layout.ts";

/** CRDs the later steps' objects need. */
export const istioCrds = [
  "gateways.networking.istio.io",
  "virtualservices.networking.istio.io",
  "peerauthentications.security.istio.io",
  "authorizationpolicies.security.istio.io",
];

async function controlPlaneWithHelm(ctx: TaskContext): Promise<void> {
  await ctx.helm.upgradeInstall(releases.istioBase);
  await waitForCrds(ctx.kube, istioCrds, ctx.settings.timeoutSeconds);
  await ctx.helm.upgradeInstall(releases.istioCni);
  await waitForWorkload(ctx, workloads.istioCni);
  await ctx.helm.upgradeInstall(releases.istiod);
  await waitForWorkload(ctx, workloads.istiod);
}

async function controlPlaneWithIstioctl(ctx: TaskContext): Promise<void> {
  const istioctl = await checkIstioctl(ctx.dryRun);
  const args = ["install", "-f", files.istioOperator, "-y", ...(ctx.settings.kubeContext ? ["--context", ctx.settings.kubeContext] : [])];
  if (ctx.dryRun) {
    log.info(`${style.yellow("[dry-run]")} would run: istioctl ${args.map((arg) => (arg === files.istioOperator ? show(arg) : arg)).join(" ")}`);
  } else {
    await run(istioctl, args, { timeoutMs: ctx.settings.timeoutSeconds * 1000 });
  }
  await waitForCrds(ctx.kube, istioCrds, ctx.settings.timeoutSeconds);
  await waitForWorkload(ctx, workloads.istioCni);
  await waitForWorkload(ctx, workloads.istiod);
}

export const task: Task = {
  id: "manual/02-istio",
  cluster: true,
  title: "Istio: CNI, istiod, ingress gateway (443, 11112)",
  summary:
    "Creates namespaces istio-system and istio-ingress (manual/02-istio/namespaces.yaml), installs Istio's base (CRDs), cni and istiod charts at the pinned version with the values files in manual/02-istio/ — or, with ISTIO_INSTALLER=istioctl, `istioctl install -f manual/02-istio/istio-operator.yaml` — then the gateway chart as release istio-ingress (LoadBalancer on 443 and 11112), waiting for each.",
  flags: { ...installerFlag, ...skipUpstreamFlag },
  run: async (ctx) => {
    const installer = istioInstaller(ctx.flags);
    await applyFile(ctx, files.istioNamespaces);
    if (skipsUpstream(ctx)) return skipUpstream(ctx, `Istio (${installer}) and its ingress gateway`, istioCrds);
    log.info(`control plane installer: ${installer}`);
    if (installer === "istioctl") await controlPlaneWithIstioctl(ctx);
    else await controlPlaneWithHelm(ctx);
    await ctx.helm.upgradeInstall(releases.gateway);
    await waitForWorkload(ctx, workloads.gateway);
  },
};

if (import.meta.main) await main(task.id, [task]);
