// The runtime gaps an independent review of helm/orthanc found (issue 18),
// each checked on what the chart renders — and, for files/prepare.py, by
// running the script itself: a host id of each pod's own, Orthanc 1.13's
// caches bounded from the memory limit, the connection budget with the
// storage area's extra connection, credentials Orthanc cannot take refused,
// SaveJobs with several replicas refused, PDB eviction of unready pods,
// deny-by-default NetworkPolicies with PostgreSQL reachable from Orthanc and
// backups only, opt-in and narrow scrape access.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { networkFlows, type Pod } from "../../proving-ground/checks/network-policy.ts";
import { valuesFiles } from "../../tasks/helm/releases.ts";
import { as, chartDir, find, ofKind, render, renderRaw } from "../helpers/chart.ts";
import { scratchDir } from "../helpers/scratch.ts";

const podSpec = (objects: readonly KubeObject[]) => as(find(objects, "Deployment", "orthanc").spec).template.spec;
const orthancJson = (objects: readonly KubeObject[]) => JSON.parse(as(find(objects, "ConfigMap", "orthanc-config").data)["orthanc.json"]) as Record<string, number>;
const prepareScript = join(chartDir, "files", "prepare.py");

function runPrepare(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync("python3", [prepareScript, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("per-pod host id (the image ships /etc/hostid as the text not-generated)", () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render();
  });

  it("an init container writes the host id into a pod-local volume that Orthanc mounts at /etc/hostid", () => {
    const spec = podSpec(objects);
    const prepare = spec.initContainers.find((c: { name: string }) => c.name === "prepare");
    expect(prepare.command).toEqual(["python3", "/opt/korthweb/prepare.py"]);
    expect(prepare.args.slice(0, 2)).toEqual(["--hostid", "/run/korthweb/hostid"]);
    expect(prepare.volumeMounts).toContainEqual({ name: "pod-identity", mountPath: "/run/korthweb" });
    const orthanc = spec.containers.find((c: { name: string }) => c.name === "orthanc");
    expect(orthanc.volumeMounts).toContainEqual({ name: "pod-identity", mountPath: "/etc/hostid", subPath: "hostid", readOnly: true });
    // emptyDir: one per pod, gone with it.
    expect(spec.volumes.find((v: { name: string }) => v.name === "pod-identity")).toEqual({ name: "pod-identity", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } });
    expect(prepare.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
  });

  it("files/prepare.py writes 4 random bytes (gethostid's format), different for each pod", () => {
    const dir = scratchDir("korthweb-hostid-");
    const ids = ["a", "b", "c"].map((name) => {
      const path = join(dir, name);
      const result = runPrepare(["--hostid", path]);
      expect(result.status, result.stderr).toBe(0);
      return readFileSync(path);
    });
    for (const id of ids) {
      expect(id.length).toBe(4);
      expect(id.toString("latin1")).not.toBe("not-");
    }
    expect(new Set(ids.map((id) => id.toString("hex"))).size).toBe(3);
  });

  it("prepare.hostId false: no init step for it, /etc/hostid stays the image's", async () => {
    const spec = podSpec(await render({ values: { prepare: { hostId: false, checkCredentials: false } } }));
    expect(spec.initContainers).toBeUndefined();
    expect(spec.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath)).not.toContain("/etc/hostid");
  });
});

describe("Orthanc 1.13 caches and buffers bounded from the memory limit", () => {
  const keys = ["MaximumStorageCacheSize", "DicomParserCacheSize", "TranscoderCacheSize", "StorageMemoryCapacity", "DicomParserMemoryCapacity", "TranscoderMemoryCapacity"];
  /** What they may take together: caches and capacities, plus one window per sequential-reader thread. */
  const total = (config: Record<string, number>) => keys.reduce((sum, key) => sum + config[key]!, 0) + config.SequentialDicomReaderThreadsCount! * config.SequentialDicomReaderWindowCapacity!;

  it("the 2Gi default: every key set, together half the limit (1024 MiB), not Orthanc's ~1.8 GB + 20 × 128 MB windows", async () => {
    const config = orthancJson(await render());
    for (const key of keys) expect(config[key], key).toBeGreaterThan(0);
    expect(total(config)).toBe(1024);
    expect(config).toMatchObject({ MaximumStorageCacheSize: 128, StorageMemoryCapacity: 256, SequentialDicomReaderThreadsCount: 4, SequentialDicomReaderWindowCapacity: 32 });
  });

  it.each([
    ["4Gi", 50, 2048],
    ["1536Mi", 50, 768],
    ["3G", 40, Math.floor((Math.floor(3e9 / 1048576) * 40) / 100)],
  ])("limit %s, budget %i percent: at most %i MiB in all", async (memory, budgetPercent, expected) => {
    const config = orthancJson(await render({ values: { resources: { limits: { cpu: "2", memory } }, memory: { budgetPercent } } }));
    expect(total(config)).toBeLessThanOrEqual(expected);
    expect(total(config)).toBeGreaterThan(expected - 16);
  });

  it("orthanc.config still wins, and memory.bounded false leaves Orthanc's defaults", async () => {
    expect(orthancJson(await render({ values: { orthanc: { config: { MaximumStorageCacheSize: 0 } } } })).MaximumStorageCacheSize).toBe(0);
    const unbounded = orthancJson(await render({ values: { memory: { bounded: false } } }));
    for (const key of keys) expect(unbounded[key], key).toBeUndefined();
  });
});

describe("connections: each pod holds connectionsPerPod + 1 (the storage area's own)", () => {
  it("defaults fit: (2 + 1 surge) × (5 + 1) = 18 of 200 − 5", async () => {
    expect((await renderRaw()).exitCode).toBe(0);
  });

  it("refuses a set the old rule (replicas × connections < max_connections) let through: 32 × 5 = 160 < 200, but 33 × 6 = 198 > 195", async () => {
    const result = await renderRaw({ values: { replicaCount: 32 } });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("database.connectionsPerPod: 33 pods (replicaCount 32, +1 during a rolling update) × (5 index + 1 storage connection) = 198 connections, more than database.maxConnections 200 − database.reservedConnections 5 = 195");
    expect((await renderRaw({ values: { replicaCount: 31 } })).exitCode).toBe(0);
  });

  it("counts the autoscaler's maximum, not replicaCount", async () => {
    const result = await renderRaw({ values: { autoscaling: { enabled: true, maxReplicas: 40 }, database: { maxConnections: 200 } } });
    expect(result.stderr).toContain("autoscaling.maxReplicas 40");
    expect((await renderRaw({ values: { autoscaling: { enabled: true, maxReplicas: 40 }, database: { maxConnections: 300 } } })).exitCode).toBe(0);
  });

  it("the bitnami values' max_connections is the chart's database.maxConnections", () => {
    const chart = parse(readFileSync(join(chartDir, "values.yaml"), "utf8"));
    const postgresql = parse(readFileSync(valuesFiles.postgresql, "utf8"));
    expect(Number(/max_connections\s*=\s*(\d+)/.exec(postgresql.primary.extendedConfiguration)?.[1])).toBe(chart.database.maxConnections);
  });
});

describe("credentials Orthanc cannot take are refused before Orthanc starts", () => {
  it("the prepare container checks the three values Orthanc substitutes, reading them from their Secrets", async () => {
    const prepare = podSpec(await render()).initContainers[0];
    expect(prepare.args).toEqual([
      "--hostid", "/run/korthweb/hostid",
      "--check", "ORTHANC_ADMIN_USERNAME=Secret orthanc-admin key username",
      "--check", "ORTHANC_ADMIN_PASSWORD=Secret orthanc-admin key password",
      "--check", "ORTHANC_DB_PASSWORD=Secret orthanc-db key password",
    ]);
    expect(prepare.env.find((e: { name: string }) => e.name === "ORTHANC_DB_PASSWORD").valueFrom).toEqual({ secretKeyRef: { name: "orthanc-db", key: "password" } });
    expect(prepare.terminationMessagePolicy).toBe("FallbackToLogsOnError");
  });

  const check = ["--check", "ORTHANC_DB_PASSWORD=Secret orthanc-db key password"];
  it.each([
    ["pass word", "contains a space"],
    ['pa"ss', "contains a double quote"],
    ["pa'ss", "contains a single quote"],
    ["pa\\ss", "contains a backslash"],
    ["pa\tss", "contains a control character"],
    ["", "is empty"],
  ])("refuses %j (exit 2, naming the Secret and key)", (value, problem) => {
    const result = runPrepare(check, { ORTHANC_DB_PASSWORD: value });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`prepare: Secret orthanc-db key password (env ORTHANC_DB_PASSWORD) ${problem}`);
    expect(result.stderr).toContain("spaces, quotes and backslashes break them");
  });

  it("accepts what the install generates and other safe punctuation", () => {
    for (const value of ["Zq8kR2mN4vX7", "a-b_c.d!e@f#g%h+i=j:k,l/m"]) expect(runPrepare(check, { ORTHANC_DB_PASSWORD: value }).status).toBe(0);
  });
});

describe("SaveJobs true with several replicas is refused by values.schema.json", () => {
  it.each([
    ["replicaCount 2", { replicaCount: 2 }],
    ["autoscaling", { autoscaling: { enabled: true } }],
  ])("%s + SaveJobs true → refused at /orthanc/config/SaveJobs", async (_name, values) => {
    const result = await renderRaw({ values: { ...values, orthanc: { config: { SaveJobs: true } } } });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("/orthanc/config/SaveJobs");
  });

  it("one replica may save its jobs", async () => {
    expect((await renderRaw({ values: { replicaCount: 1, orthanc: { config: { SaveJobs: true } } } })).exitCode).toBe(0);
  });
});

describe("PodDisruptionBudget", () => {
  it("evicts unready pods (readiness reads the database: in an outage all are unready, drains must not hang)", async () => {
    expect(as(find(await render(), "PodDisruptionBudget", "orthanc").spec).unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
  });
});

describe("NetworkPolicies of the helm approach's namespace", () => {
  const app = (component: string, extra: Record<string, string> = {}) => ({ "app.kubernetes.io/name": "orthanc", "app.kubernetes.io/instance": "orthanc", "app.kubernetes.io/component": component, ...extra });
  const pods: Pod[] = [
    { name: "orthanc", namespace: "orthanc", labels: app("server"), ports: [8042, 4242] },
    { name: "postgresql", namespace: "orthanc", labels: { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "orthanc-db", "app.kubernetes.io/component": "primary" }, ports: [5432] },
    { name: "backup", namespace: "orthanc", labels: app("backup"), ports: [] },
    { name: "helm-test", namespace: "orthanc", labels: app("test"), ports: [] },
    { name: "other", namespace: "orthanc", labels: {}, ports: [80] },
    { name: "traefik", namespace: "traefik", labels: { "app.kubernetes.io/name": "traefik" }, ports: [8443, 11112] },
    { name: "elsewhere", namespace: "apps", labels: {}, ports: [] },
    { name: "prometheus", namespace: "monitoring", labels: { "app.kubernetes.io/name": "prometheus" }, ports: [] },
    { name: "grafana", namespace: "monitoring", labels: { "app.kubernetes.io/name": "grafana" }, ports: [] },
  ];
  const flowsOf = async (values?: Record<string, unknown>) => networkFlows(ofKind(await render(values ? { values } : {}), "NetworkPolicy"), pods).filter((flow) => !flow.startsWith("outside"));

  it("deny by default; PostgreSQL reachable from Orthanc and the backups only; the helm test pod selected and let out to Traefik only", async () => {
    const objects = await render();
    expect(as(find(objects, "NetworkPolicy", "orthanc-default-deny").spec)).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const flows = await flowsOf();
    // Pods outside the namespace have no policy here: what they may send is up to their own namespace.
    expect(flows.filter((flow) => flow.includes("-> orthanc:") || flow.includes("-> postgresql:") || flow.includes("-> other:") || /^(orthanc|backup|helm-test|other|postgresql) ->/.test(flow)).sort()).toEqual(
      [
        "backup -> postgresql:5432",
        "helm-test -> traefik:11112",
        "helm-test -> traefik:8443",
        "orthanc -> postgresql:5432",
        "traefik -> orthanc:4242",
        "traefik -> orthanc:8042",
      ].sort(),
    );
  });

  it("scrape access is opt-in: with monitoringNamespace, Prometheus' pods only, on the HTTP port only", async () => {
    const flows = await flowsOf({ networkPolicy: { monitoringNamespace: "monitoring" } });
    const intoNamespace = /-> (orthanc|postgresql|backup|helm-test|other):/;
    expect(flows.filter((flow) => (flow.startsWith("prometheus") || flow.startsWith("grafana")) && intoNamespace.test(flow))).toEqual(["prometheus -> orthanc:8042"]);
  });

  it("bitnami's own PostgreSQL policy (every pod of the cluster) is off in the helm and manual values; gitops tenants turn it off too", () => {
    const postgresql = parse(readFileSync(valuesFiles.postgresql, "utf8"));
    expect(postgresql.primary.networkPolicy).toEqual({ enabled: false });
    const gitops = parse(readFileSync("gitops/tenants/base/workload/postgresql.yaml", "utf8"));
    expect(gitops.spec.values.primary.networkPolicy).toEqual({ enabled: false });
  });
});
