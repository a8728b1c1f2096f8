// Observability wiring: Prometheus selects our monitors, scrapes Orthanc with
// the certificate its sidecar writes where the ServiceMonitor looks, Grafana
// loads our dashboard (which uses metrics Orthanc really exposes) and logs in
// from a generated Secret, and Kiali points at the right services.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generatedSecrets } from "../../tasks/manual/credentials.ts";
import { consoles, files, namespaces, releases } from "../../tasks/manual/layout.ts";
import { meshWorkloads, prometheusCertDir } from "../../proving-ground/checks/manual/mesh.ts";
import { readObjects } from "../../tasks/manual/apply.ts";
import { allObjects, named, ofKind, values } from "./manual-files.ts";

const objects = allObjects();
const kps = values(files.kubePrometheusStackValues);
const spec = kps.prometheus.prometheusSpec;

/**
 * Metrics Orthanc 1.13 publishes on /tools/metrics-prometheus (Orthanc Book, "Monitoring Orthanc with Prometheus"; OrthancServer
 * sources; scraped from the real node's Orthanc 1.13.0). 1.13 removed orthanc_jobs_completed, _success and _failed (jobs still in
 * the history) for orthanc_jobs_total_completed, _success and _failed (every job since Orthanc started).
 */
const orthancMetrics = new Set([
  "orthanc_count_patients", "orthanc_count_studies", "orthanc_count_series", "orthanc_count_instances",
  "orthanc_disk_size_mb", "orthanc_uncompressed_size_mb", "orthanc_up_time_s", "orthanc_last_change",
  "orthanc_jobs_running", "orthanc_jobs_pending", "orthanc_jobs_total_completed", "orthanc_jobs_total_success", "orthanc_jobs_total_failed",
  "orthanc_rest_api_active_requests", "orthanc_rest_api_duration_ms", "orthanc_store_dicom_duration_ms",
  "orthanc_storage_create_duration_ms", "orthanc_storage_read_duration_ms",
  "orthanc_available_http_threads_count", "orthanc_available_dicom_threads",
]);

describe("Prometheus", () => {
  it("selects every monitor we ship (label release=<its release>, as serviceMonitorSelectorNilUsesHelmValues does)", () => {
    expect(spec.serviceMonitorSelectorNilUsesHelmValues).toBe(true);
    const monitors = [...ofKind(objects, "ServiceMonitor"), ...ofKind(objects, "PodMonitor")];
    expect(monitors.length).toBe(3);
    for (const monitor of monitors) expect((monitor.metadata as any).labels.release, `${String(monitor.metadata?.name)}`).toBe(releases.kubePrometheusStack.release);
    expect(values(files.orthancValues).metrics.serviceMonitor.labels.release).toBe(releases.kubePrometheusStack.release);
  });

  it("gets its mesh certificate from a sidecar that intercepts nothing, mounted where the Orthanc ServiceMonitor reads it", () => {
    const { labels, annotations } = spec.podMetadata;
    expect(labels["sidecar.istio.io/inject"]).toBe("true");
    expect(annotations["traffic.sidecar.istio.io/includeInboundPorts"]).toBe("");
    expect(annotations["traffic.sidecar.istio.io/includeOutboundIPRanges"]).toBe("");
    const outputDir = parse(annotations["proxy.istio.io/config"]).proxyMetadata.OUTPUT_CERTS;
    const [userMount] = JSON.parse(annotations["sidecar.istio.io/userVolumeMount"]);
    expect(userMount.mountPath).toBe(outputDir);
    expect(spec.volumes.map((v: any) => v.name)).toContain(userMount.name);
    const promMount = spec.volumeMounts.find((m: any) => m.name === userMount.name);
    expect(promMount.mountPath.replace(/\/$/, "")).toBe(prometheusCertDir);
    const [monitor] = readObjects(files.orthancServiceMonitor) as any[];
    for (const file of ["caFile", "certFile", "keyFile"]) expect(monitor.spec.endpoints[0].tlsConfig[file].startsWith(`${prometheusCertDir}/`)).toBe(true);
  });

  it("reaches Orthanc's sidecar metrics: the chart's NetworkPolicy admits the monitoring namespace on the PodMonitor's port", () => {
    const envoy = named(objects, "PodMonitor", "envoy-stats", namespaces.monitoring);
    expect(envoy.spec.podMetricsEndpoints[0].port).toBe("http-envoy-prom"); // Istio's name for 15090 on every proxy
    const policy = named(objects, "NetworkPolicy", "orthanc", namespaces.app);
    const fromMonitoring = policy.spec.ingress.find((rule: any) => rule.from[0].namespaceSelector.matchLabels?.["kubernetes.io/metadata.name"] === namespaces.monitoring);
    expect(fromMonitoring.ports.map((p: any) => p.port)).toEqual([8042, 15090, 15020]);
  });

  it("runs as the service account the authorization policy allows", () => {
    expect(kps.prometheus.serviceAccount.name).toBe(meshWorkloads.prometheus.serviceAccount);
  });

  it("is trimmed: no Alertmanager, node exporter or cluster-component scraping", () => {
    expect(kps.alertmanager.enabled).toBe(false);
    expect(kps.nodeExporter.enabled).toBe(false);
    expect(kps.kubernetesServiceMonitors.enabled).toBe(false);
    expect(kps.defaultRules.create).toBe(false);
  });
});

describe("Grafana", () => {
  const dashboardMap = named(objects, "ConfigMap", "orthanc-dashboard", namespaces.monitoring);
  const dashboard = JSON.parse(dashboardMap.data["orthanc.json"]);

  it("logs in from the generated Secret (never the chart's default password)", () => {
    expect(kps.grafana.admin).toEqual({ existingSecret: generatedSecrets.grafana.name, userKey: "admin-user", passwordKey: "admin-password" });
    expect(Object.keys(generatedSecrets.grafana.keys).sort()).toEqual(["admin-password", "admin-user"]);
    expect(generatedSecrets.grafana.namespace).toBe(releases.kubePrometheusStack.namespace);
    expect(kps.grafana.adminPassword).toBeUndefined();
  });

  it("loads our dashboard through its sidecar label", () => {
    const { label, labelValue } = kps.grafana.sidecar.dashboards;
    expect(dashboardMap.metadata.labels[label]).toBe(labelValue);
    expect(dashboard.uid).toBe("korthweb-orthanc");
  });

  it("dashboard queries use only metrics Orthanc exposes, via the stack's Prometheus datasource", () => {
    const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
    const used = new Set(exprs.flatMap((e) => e.match(/\borthanc_[a-z_]+/g) ?? []));
    expect([...used].filter((m) => !orthancMetrics.has(m))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(10);
    for (const panel of dashboard.panels) expect(panel.datasource).toEqual({ type: "prometheus", uid: "prometheus" });
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
  });

  it("references Istio's dashboards by grafana.com id, in a provider that exists", () => {
    const providers = kps.grafana.dashboardProviders["dashboardproviders.yaml"].providers.map((p: any) => p.name);
    for (const [provider, dashboards] of Object.entries<any>(kps.grafana.dashboards)) {
      expect(providers).toContain(provider);
      for (const item of Object.values<any>(dashboards)) {
        expect(item.gnetId).toBeGreaterThan(0);
        expect(item.revision).toBeGreaterThan(1);
      }
    }
    expect(Object.values<any>(kps.grafana.dashboards.istio).map((d) => d.gnetId).sort()).toEqual([7630, 7636, 7639]);
  });
});

describe("Kiali", () => {
  const kiali = named(objects, "Kiali", "kiali", namespaces.istio);

  it("reads the operator-managed Prometheus and links to our Grafana", () => {
    expect(kiali.spec.external_services.prometheus.url).toBe(`http://prometheus-operated.${namespaces.monitoring}.svc:9090`);
    expect(kiali.spec.external_services.grafana.internal_url).toBe(`http://${consoles.grafana.service}.${consoles.grafana.namespace}.svc:${consoles.grafana.servicePort}`);
    expect(kiali.spec.external_services.grafana.external_url).toBe(`http://127.0.0.1:${consoles.grafana.localPort}`);
  });

  it("asks for a token, is read-only (as the operator is restricted to), and knows our gateway's label", () => {
    expect(kiali.spec.auth.strategy).toBe("token");
    expect(kiali.spec.deployment.view_only_mode).toBe(true);
    expect(values(files.kialiOperatorValues).onlyViewOnlyMode).toBe(true);
    expect(kiali.spec.istio_labels.ingress_gateway_label).toBe(Object.entries(meshWorkloads.gateway.labels).map(([k, v]) => `${k}=${v}`)[0]);
    expect(consoles.kiali.namespace).toBe(kiali.metadata.namespace);
  });
});
