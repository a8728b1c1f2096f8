// The metrics check of the real-node tier without a cluster: which names the
// committed dashboards query, how a ServiceMonitor resolves to scrape targets
// (as the Prometheus operator does), and how names are read from Orthanc's
// text exposition. The real pods are scraped in approaches-on-real-node.test.ts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { committedDashboards, dashboardsIn, exposedNames, exposedValues, serviceMonitorTargets, type GetJson } from "../../proving-ground/real-node/metrics.ts";

const committedMonitor = parseManifests(readFileSync(fromRoot("manual", "08-observability", "orthanc-servicemonitor.yaml"), "utf8"), "servicemonitor").map((item) => item.object)[0]!;

describe("the dashboards' metric names", () => {
  it("reads every orthanc_* name and job label from panel targets and template variables, however deep", () => {
    const configMap: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "d", namespace: "monitoring", labels: { grafana_dashboard: "1" } },
      data: {
        "a.json": JSON.stringify({
          templating: { list: [{ query: { query: "label_values(orthanc_up_time_s, namespace)" }, definition: "label_values(orthanc_up_time_s, namespace)" }] },
          panels: [{ targets: [{ expr: 'max(orthanc_count_patients{job="orthanc"})' }] }, { panels: [{ targets: [{ expr: 'rate(istio_requests_total{job="x"}[5m]) + orthanc_jobs_failed' }] }] }],
          description: "orthanc_not_a_query",
        }),
      },
    };
    const [dashboard] = dashboardsIn(configMap, "file.yaml");
    expect(dashboard!.metrics).toEqual(["orthanc_count_patients", "orthanc_jobs_failed", "orthanc_up_time_s"]);
    expect(dashboard!.jobs).toEqual(["orthanc", "x"]);
    expect(dashboardsIn({ ...configMap, metadata: { name: "d", labels: {} } }, "file.yaml")).toEqual([]);
    expect(() => dashboardsIn({ ...configMap, data: { "b.json": "{" } }, "file.yaml")).toThrow(/file\.yaml ConfigMap monitoring\/d b\.json: not JSON/);
  });

  it("finds the committed Orthanc dashboard and the names it queries", () => {
    const dashboards = committedDashboards();
    const orthanc = dashboards.find((d) => d.source.startsWith("manual/08-observability/orthanc-dashboard.yaml"));
    expect(orthanc?.metrics.length).toBeGreaterThan(10);
    expect(orthanc?.metrics.every((name) => name.startsWith("orthanc_"))).toBe(true);
    expect(orthanc?.jobs).toEqual(["orthanc"]);
  });
});

describe("ServiceMonitor → scrape targets", () => {
  const b64 = (value: string) => Buffer.from(value).toString("base64");
  const cluster: Record<string, unknown> = {
    "-n orthanc get services -l app.kubernetes.io/name=orthanc,app.kubernetes.io/instance=orthanc,app.kubernetes.io/component=server": {
      items: [{ metadata: { name: "orthanc" }, spec: { ports: [{ name: "http-web", port: 8042 }, { name: "tcp-dicom", port: 4242 }] } }],
    },
    "-n orthanc get endpointslices -l kubernetes.io/service-name=orthanc": {
      items: [
        {
          ports: [{ name: "tcp-dicom", port: 4242 }, { name: "http-web", port: 8042 }],
          endpoints: [
            { addresses: ["198.18.0.8"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "orthanc-a", namespace: "orthanc" } },
            { addresses: ["198.18.0.9"], conditions: { ready: false }, targetRef: { kind: "Pod", name: "orthanc-b", namespace: "orthanc" } },
          ],
        },
      ],
    },
    "-n orthanc get secret orthanc-admin": { data: { username: b64("admin"), password: b64("s3cret") } },
  };
  const get: GetJson = async (args) => {
    const key = args.join(" ");
    if (!(key in cluster)) throw new Error(`unexpected kubectl ${key}`);
    return cluster[key];
  };

  it("resolves the committed ServiceMonitor: ready endpoints of the selected Service's named port, its path, scheme and basic auth from the Secret", async () => {
    const targets = await serviceMonitorTargets(get, committedMonitor);
    expect(targets).toEqual([
      { pod: "orthanc/orthanc-a", namespace: "orthanc", job: "orthanc", address: "198.18.0.8", port: 8042, path: "/tools/metrics-prometheus", scheme: "https", auth: { username: "admin", password: "s3cret" } },
    ]);
  });

  it("fails, naming the monitor and the Service, when the port name is not the Service's", async () => {
    const monitor = { ...committedMonitor, spec: { ...(committedMonitor.spec as object), endpoints: [{ port: "metrics", path: "/x" }] } };
    await expect(serviceMonitorTargets(get, monitor)).rejects.toThrow(/ServiceMonitor orthanc\/orthanc: Service orthanc\/orthanc has no port named metrics/);
  });
});

describe("names from the text exposition", () => {
  it("takes each sample line's metric name, skipping HELP, TYPE and blank lines", () => {
    const text = "# HELP orthanc_up_time_s up\n# TYPE orthanc_up_time_s gauge\northanc_up_time_s 12 1700000000000\n\northanc_jobs_failed{x=\"1\"} 0\northanc_up_time_s 13\n";
    expect(exposedNames(text)).toEqual(["orthanc_jobs_failed", "orthanc_up_time_s"]);
  });

  it("reads each unlabelled sample's value, without its timestamp", () => {
    const text = "# TYPE orthanc_up_time_s gauge\northanc_up_time_s 12 1700000000000\northanc_disk_size_mb 0.0135\n\northanc_jobs_total_failed 2\n";
    expect(exposedValues(text)).toEqual({ orthanc_up_time_s: 12, orthanc_disk_size_mb: 0.0135, orthanc_jobs_total_failed: 2 });
  });
});
