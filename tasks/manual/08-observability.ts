// Step 8: Prometheus and Grafana (kube-prometheus-stack), Kiali (operator +
// Kiali resource), the scrape targets (Orthanc, Envoy, istiod) and our
// Grafana dashboard for Orthanc.
import { waitForCrds } from "../lib/kube-wait.ts";
import { main, type Task } from "../lib/task.ts";
import { skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { applyFile, waitForWorkload } from "./apply.ts";
import { ensureGeneratedSecret, generatedSecrets } from "./credentials.ts";
import { files, releases, workloads } from "./layout.ts";

export const monitoringCrds = ["servicemonitors.monitoring.coreos.com", "podmonitors.monitoring.coreos.com", "prometheuses.monitoring.coreos.com"];
export const kialiCrds = ["kialis.kiali.io"];

export const task: Task = {
  id: "manual/08-observability",
  cluster: true,
  title: "Observability: Prometheus, Grafana, Kiali, Orthanc dashboard",
  summary:
    "Creates namespaces monitoring and kiali-operator, the Secret grafana-admin (random password) unless it exists, installs kube-prometheus-stack (Prometheus with a certificate-only Istio sidecar, Grafana) and the kiali-operator chart at their pinned versions, then applies the scrape targets (Orthanc's ServiceMonitor rendered from helm/orthanc, Envoy and istiod), the Orthanc dashboard and the Kiali resource. Waits for each. Open them with make manual-grafana / make manual-kiali.",
  flags: skipUpstreamFlag,
  run: async (ctx) => {
    await applyFile(ctx, files.observabilityNamespaces);
    await ensureGeneratedSecret(ctx, generatedSecrets.grafana);
    if (skipsUpstream(ctx)) {
      // Our objects only: scrape targets, dashboard, the Kiali resource; nothing runs them.
      await skipUpstream(ctx, "kube-prometheus-stack and kiali-operator", [...monitoringCrds, ...kialiCrds]);
      for (const path of [files.orthancServiceMonitor, files.istioMonitors, files.orthancDashboard, files.kiali]) await applyFile(ctx, path);
      return;
    }
    await ctx.helm.upgradeInstall(releases.kubePrometheusStack);
    await waitForCrds(ctx.kube, monitoringCrds, ctx.settings.timeoutSeconds);
    await waitForWorkload(ctx, workloads.prometheusOperator);
    await applyFile(ctx, files.orthancServiceMonitor, { retryWebhook: true });
    await applyFile(ctx, files.istioMonitors, { retryWebhook: true });
    await applyFile(ctx, files.orthancDashboard);
    await waitForWorkload(ctx, workloads.prometheus);
    await waitForWorkload(ctx, workloads.grafana);
    await ctx.helm.upgradeInstall(releases.kialiOperator);
    await waitForCrds(ctx.kube, kialiCrds, ctx.settings.timeoutSeconds);
    await waitForWorkload(ctx, workloads.kialiOperator);
    await applyFile(ctx, files.kiali);
    await waitForWorkload(ctx, workloads.kiali);
  },
};

if (import.meta.main) await main(task.id, [task]);
