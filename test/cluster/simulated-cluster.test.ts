// The install tasks against a real Kubernetes API server (kube-apiserver,
// controller manager, scheduler, etcd 3.6) with simulated nodes (kwok), built
// from the Go module proxy by `make cluster-build` (make test runs it first).
// Upstream charts are skipped (--skip-upstream: they need the internet);
// everything of ours is applied for real and checked as the server holds it.
// One cluster for the whole file; the approaches run one after the other.
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { listeningAddressesOf } from "../../tasks/local/processes.ts";
import { kubectl, kubectlJson, runTaskScript, snapshot, snapshotDiff, startTestCluster, type TestCluster } from "../helpers/simulated-cluster.ts";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

interface Condition {
  type: string;
  status: string;
}
interface Workload {
  metadata: { name: string; namespace: string };
  status?: { conditions?: Condition[] };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

const isCustom = (apiVersion: string) => apiVersion.includes(".") && !/(^|\.)k8s\.io\//.test(apiVersion);

/** True when every field of `expected` is in `actual` with the same value (the server may add defaults, never drop). */
function contains(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== "object") return actual === expected;
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((item, i) => contains(actual[i], item));
  if (actual === null || typeof actual !== "object") return false;
  return Object.entries(expected).every(([key, value]) => contains((actual as Record<string, unknown>)[key], value));
}

async function unavailableDeployments(namespace: string): Promise<string[]> {
  const { items } = await kubectlJson<{ items: Workload[] }>(cluster, ["get", "deployments", "-n", namespace]);
  return items.filter((item) => !item.status?.conditions?.some((c) => c.type === "Available" && c.status === "True")).map((item) => item.metadata.name);
}

/** Custom resources of a rendered manifest that the server does not hold exactly as written (missing, or fields pruned). */
async function customResourcesNotAsWritten(manifest: string, defaultNamespace: string): Promise<string[]> {
  const problems: string[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    const object = doc.toJS() as Manifest | null;
    if (!object?.apiVersion || !isCustom(object.apiVersion)) continue;
    const group = object.apiVersion.split("/")[0];
    const namespace = object.metadata.namespace ?? defaultNamespace;
    const stored = await kubectl(cluster, ["get", `${object.kind.toLowerCase()}.${group}`, object.metadata.name, "-n", namespace, "-o", "json"]);
    if (stored.exitCode !== 0) problems.push(`${object.kind} ${namespace}/${object.metadata.name}: ${stored.stderr.trim()}`);
    else if (!contains((JSON.parse(stored.stdout) as Manifest).spec, object.spec)) problems.push(`${object.kind} ${namespace}/${object.metadata.name}: stored spec differs from the manifest`);
  }
  return problems;
}

describe("the simulated cluster", () => {
  it(`is Kubernetes ${pins.cluster.kubernetes} with 3 Ready nodes, every process listening on 127.0.0.1 only`, async () => {
    const version = await kubectlJson<{ serverVersion: { gitVersion: string } }>(cluster, ["version"]);
    expect(version.serverVersion.gitVersion).toBe(pins.cluster.kubernetes);
    const nodes = await kubectlJson<{ items: { status: { conditions: Condition[] } }[] }>(cluster, ["get", "nodes"]);
    expect(nodes.items).toHaveLength(3);
    expect(nodes.items.every((node) => node.status.conditions.some((c) => c.type === "Ready" && c.status === "True"))).toBe(true);
    const names = cluster.report.components.map((component) => component.name).sort();
    expect(names).toEqual(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"]);
    for (const component of cluster.report.components) {
      const addresses = listeningAddressesOf(component.pid);
      expect(addresses.length, component.name).toBeGreaterThan(0);
      expect(addresses.filter((address) => !address.startsWith("127.0.0.1:")), component.name).toEqual([]);
    }
  });

  it("holds the generated CRDs, and the API server rejects a custom resource with an unknown field or a wrong type", async () => {
    expect(cluster.report.crdCount).toBeGreaterThanOrEqual(47);
    const bad = (spec: string) => `apiVersion: traefik.io/v1alpha1
kind: IngressRouteTCP
metadata: {name: bad, namespace: default}
spec: ${spec}
`;
    const unknownField = await kubectl(cluster, ["apply", "--server-side", "-f", "-"], bad("{routes: [{match: 'HostSNI(`*`)', servicess: []}]}"));
    expect(unknownField.exitCode).not.toBe(0);
    expect(unknownField.stderr).toContain(".spec.routes[0].servicess: field not declared in schema");
    const wrongType = await kubectl(cluster, ["apply", "--server-side", "-f", "-"], bad("{routes: [{match: 'HostSNI(`*`)'}], tls: {passthrough: 'yes'}}"));
    expect(wrongType.exitCode).not.toBe(0);
    expect(wrongType.stderr).toContain(".spec.tls.passthrough: expected boolean");
    const missingRequired = await kubectl(cluster, ["apply", "--server-side", "-f", "-"], bad("{routes: [{services: [{name: orthanc, port: 4242}]}]}"));
    expect(missingRequired.exitCode).not.toBe(0);
    expect(missingRequired.stderr).toMatch(/spec\.routes\[0\]\.match: Required value/);
  });
});

describe("helm approach (make helm-install ARGS=--skip-upstream)", () => {
  const namespace = "orthanc";
  const install = () => runTaskScript(cluster, "helm/install.ts", ["--skip-upstream", "--timeout", "180"]);

  it("installs: every step succeeds, every Deployment is Available, every custom resource is stored as written", async () => {
    const result = await install();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("[skip-upstream] not installing Traefik");
    expect(result.stderr).toContain("[skip-upstream] not installing PostgreSQL");
    expect(await unavailableDeployments(namespace)).toEqual([]);
    const { items } = await kubectlJson<{ items: Workload[] }>(cluster, ["get", "deployments", "-n", namespace]);
    expect(items.map((item) => item.metadata.name)).toEqual(["orthanc"]);
    const manifest = await runHelm(["get", "manifest", "orthanc", "-n", namespace]);
    expect(manifest).toMatch(/kind: IngressRouteTCP/);
    expect(await customResourcesNotAsWritten(manifest, namespace)).toEqual([]);
  }, 300_000);

  it("re-runs as a no-op: no object in the namespace changes; Helm records a revision with the same manifest", async () => {
    const before = await snapshot(cluster, [namespace]);
    const result = await install();
    expect(result.exitCode, result.stderr).toBe(0);
    const after = await snapshot(cluster, [namespace]);
    // Helm's own record of the release is the one expected change.
    const changed = snapshotDiff(before, after).filter((line) => !line.startsWith(`Secret ${namespace}/sh.helm.release.v1.orthanc.`));
    expect(changed).toEqual([]);
    const [first, second] = await Promise.all([1, 2].map((revision) => runHelm(["get", "manifest", "orthanc", "-n", namespace, "--revision", String(revision)])));
    expect(second).toBe(first);
  }, 300_000);

  it("uninstalls: only the credential Secrets and the namespace stay (by design); --purge removes those too", async () => {
    const kept = await runTaskScript(cluster, "helm/uninstall.ts", []);
    expect(kept.exitCode, kept.stderr).toBe(0);
    const left = [...(await snapshot(cluster, [namespace])).keys()].filter((key) => key !== `ConfigMap ${namespace}/kube-root-ca.crt` && !key.startsWith(`ServiceAccount ${namespace}/default`));
    expect(left.sort()).toEqual([`Namespace ${namespace}`, `Secret ${namespace}/orthanc-admin`, `Secret ${namespace}/orthanc-db`]);
    const purged = await runTaskScript(cluster, "helm/uninstall.ts", ["--purge"]);
    expect(purged.exitCode, purged.stderr).toBe(0);
    expect([...(await snapshot(cluster, [namespace])).keys()]).toEqual([]);
  }, 300_000);
});

async function runHelm(args: readonly string[]): Promise<string> {
  return (await run(requireToolPath("helm"), args, { env: cluster.env, silent: true })).stdout;
}
