// The install tasks against a real Kubernetes API server (kube-apiserver,
// controller manager, scheduler, etcd 3.6) with simulated nodes (kwok), built
// from the Go module proxy by `make cluster-build` (make test runs it first).
// Upstream charts are skipped (--skip-upstream: they need the internet);
// everything of ours is applied for real and checked as the server holds it.
// One cluster for the whole file; the approaches run one after the other.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { listeningAddressesOf } from "../../tasks/lib/processes.ts";
import { loadFluxTree } from "../../tasks/gitops/tree.ts";
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
const isCustom = (apiVersion: string) => apiVersion.includes(".") && !/(^|\.)k8s\.io\//.test(apiVersion);

/** True when every field of `expected` is in `actual` with the same value (the server may add defaults, never drop). */
function contains(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== "object") return actual === expected;
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((item, i) => contains(actual[i], item));
  if (actual === null || typeof actual !== "object") return false;
  return Object.entries(expected).every(([key, value]) => contains((actual as Record<string, unknown>)[key], value));
}

const resourceOf = (object: KubeObject) => {
  const apiVersion = String(object.apiVersion);
  return `${String(object.kind).toLowerCase()}${apiVersion.includes("/") ? `.${apiVersion.split("/")[0]}` : ""}`;
};

/**
 * Objects the server does not hold as written: missing, or (custom resources) with fields the API
 * server pruned or changed. Secrets are only checked to exist (written as stringData, stored as data).
 */
async function notStoredAsWritten(objects: readonly KubeObject[], defaultNamespace: string): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const namespace = typeof object.metadata?.namespace === "string" ? object.metadata.namespace : defaultNamespace;
    const label = `${String(object.kind)} ${namespace}/${String(object.metadata?.name)}`;
    const stored = await kubectl(cluster, ["get", resourceOf(object), String(object.metadata?.name), "-n", namespace, "-o", "json"]);
    if (stored.exitCode !== 0) {
      problems.push(`${label}: ${stored.stderr.trim()}`);
      continue;
    }
    if (!isCustom(String(object.apiVersion))) continue;
    const held = JSON.parse(stored.stdout) as Record<string, unknown>;
    for (const [key, value] of Object.entries(object)) {
      if (!["apiVersion", "kind", "metadata", "status"].includes(key) && !contains(held[key], value)) problems.push(`${label}: stored .${key} differs from what was written`);
    }
  }
  return problems;
}

const objectsOf = (text: string, source: string) => parseManifests(text, source).map((item) => item.object);

/** Deployments of every namespace that are not Available, as namespace/name. */
async function unavailableDeployments(): Promise<string[]> {
  const { items } = await kubectlJson<{ items: Workload[] }>(cluster, ["get", "deployments", "-A"]);
  return items.filter((item) => !item.status?.conditions?.some((c) => c.type === "Available" && c.status === "True")).map((item) => `${item.metadata.namespace}/${item.metadata.name}`);
}

/** A snapshot taken before a no-op check must hold what the install made, or the comparison proves nothing. */
function expectHolds(before: Map<string, string>, keys: readonly string[]): void {
  expect(keys.filter((key) => !before.has(key)), "objects missing from the snapshot").toEqual([]);
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
    expect(await unavailableDeployments()).toEqual([]);
    const { items } = await kubectlJson<{ items: Workload[] }>(cluster, ["get", "deployments", "-n", namespace]);
    expect(items.map((item) => item.metadata.name)).toEqual(["orthanc"]);
    const manifest = await runHelm(["get", "manifest", "orthanc", "-n", namespace]);
    expect(manifest).toMatch(/kind: IngressRouteTCP/);
    expect(await notStoredAsWritten(objectsOf(manifest, "helm get manifest orthanc"), namespace)).toEqual([]);
  }, 300_000);

  it("re-runs as a no-op: no object in the namespace changes, not even Helm's record (no new revision)", async () => {
    const before = await snapshot(cluster, [namespace]);
    expectHolds(before, [`Deployment ${namespace}/orthanc`, `Secret ${namespace}/orthanc-admin`, `IngressRouteTCP ${namespace}/orthanc-dicom`]);
    const result = await install();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("release orthanc/orthanc is up to date: nothing to change");
    expect(snapshotDiff(before, await snapshot(cluster, [namespace]))).toEqual([]);
    const history = JSON.parse(await runHelm(["history", "orthanc", "-n", namespace, "-o", "json"])) as unknown[];
    expect(history).toHaveLength(1);
  }, 300_000);

  it("guards its namespace: manual install and uninstall stop with exit 11 while the helm approach owns namespace orthanc, changing nothing", async () => {
    const watched = [namespace, "istio-system", "istio-ingress", "cert-manager"];
    const before = await snapshot(cluster, watched);
    for (const [script, args] of [["manual/install.ts", ["--skip-upstream"]], ["manual/uninstall.ts", ["--purge"]]] as const) {
      const result = await runTaskScript(cluster, script, [...args]);
      expect(result.exitCode, result.stderr).toBe(11);
      expect(result.stderr).toContain("namespace orthanc belongs to the helm approach");
      expect(result.stderr).toContain("make helm-uninstall");
    }
    expect(snapshotDiff(before, await snapshot(cluster, watched))).toEqual([]);
  }, 300_000);

  it("uninstalls: only the credential Secrets, the backup volume and the namespace stay (by design); --purge removes those too", async () => {
    const kept = await runTaskScript(cluster, "helm/uninstall.ts", []);
    expect(kept.exitCode, kept.stderr).toBe(0);
    const left = [...(await snapshot(cluster, [namespace])).keys()].filter((key) => key !== `ConfigMap ${namespace}/kube-root-ca.crt` && !key.startsWith(`ServiceAccount ${namespace}/default`));
    expect(left.sort()).toEqual([`Namespace ${namespace}`, `PersistentVolumeClaim ${namespace}/orthanc-backups`, `Secret ${namespace}/orthanc-admin`, `Secret ${namespace}/orthanc-db`]);
    const purged = await runTaskScript(cluster, "helm/uninstall.ts", ["--purge"]);
    expect(purged.exitCode, purged.stderr).toBe(0);
    expect([...(await snapshot(cluster, [namespace])).keys()]).toEqual([]);
  }, 300_000);
});

describe("manual approach (make manual-install ARGS=--skip-upstream)", () => {
  const namespaces = ["istio-system", "istio-ingress", "cert-manager", "orthanc", "monitoring", "kiali-operator"];
  const clusterScoped = ["clusterissuers.cert-manager.io"];
  const install = () => runTaskScript(cluster, "manual/install.ts", ["--skip-upstream", "--timeout", "180"]);
  /** Every object in the committed YAML the steps apply (not the upstream charts' values, not istioctl's IstioOperator). */
  const committedObjects = () =>
    ["02-istio/namespaces.yaml", "03-cert-manager/namespace.yaml", "03-cert-manager/ca-chain.yaml", "04-postgresql/namespace.yaml", "05-orthanc/orthanc.yaml", "06-routing/routing.yaml", "07-security/peer-authentication.yaml", "07-security/authorization-policies.yaml", "08-observability/namespaces.yaml", "08-observability/orthanc-servicemonitor.yaml", "08-observability/istio-monitors.yaml", "08-observability/orthanc-dashboard.yaml", "08-observability/kiali.yaml"]
      .flatMap((file) => objectsOf(readFileSync(fromRoot("manual", file), "utf8"), file));

  it("installs: every step succeeds, Orthanc Available, every committed object stored as written", async () => {
    const result = await install();
    expect(result.exitCode, result.stderr).toBe(0);
    for (const skipped of ["Istio", "cert-manager", "PostgreSQL", "kube-prometheus-stack"]) expect(result.stderr).toContain(`[skip-upstream] not installing ${skipped}`);
    expect(await unavailableDeployments()).toEqual([]);
    expect((await kubectlJson<{ items: Workload[] }>(cluster, ["get", "deployments", "-n", "orthanc"])).items.map((item) => item.metadata.name)).toEqual(["orthanc"]);
    const objects = committedObjects();
    expect(objects.length).toBeGreaterThan(25);
    expect(await notStoredAsWritten(objects, "default")).toEqual([]);
  }, 300_000);

  it("re-runs as a no-op: no object changes", async () => {
    const before = await snapshot(cluster, namespaces, clusterScoped);
    expectHolds(before, ["Deployment orthanc/orthanc", "ClusterIssuer korthweb-ca", "Certificate istio-ingress/orthanc-tls", "AuthorizationPolicy orthanc/allow-nothing", "Gateway istio-ingress/orthanc"]);
    const result = await install();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(snapshotDiff(before, await snapshot(cluster, namespaces, clusterScoped))).toEqual([]);
  }, 300_000);

  it("guards its namespace: helm install and uninstall stop with exit 11 while the manual approach owns namespace orthanc, changing nothing", async () => {
    const before = await snapshot(cluster, namespaces, clusterScoped);
    for (const [script, args] of [["helm/install.ts", ["--skip-upstream"]], ["helm/uninstall.ts", ["--purge"]]] as const) {
      const result = await runTaskScript(cluster, script, [...args]);
      expect(result.exitCode, result.stderr).toBe(11);
      expect(result.stderr).toContain("namespace orthanc belongs to the manual approach");
      expect(result.stderr).toContain("make manual-uninstall");
    }
    expect(snapshotDiff(before, await snapshot(cluster, namespaces, clusterScoped))).toEqual([]);
  }, 300_000);

  it("uninstalls: only namespaces, Secrets and the backup volume stay (by design); --purge removes everything", async () => {
    const kept = await runTaskScript(cluster, "manual/uninstall.ts", []);
    expect(kept.exitCode, kept.stderr).toBe(0);
    const left = [...(await snapshot(cluster, namespaces, clusterScoped)).keys()].filter((key) => !/^(ConfigMap \S+\/kube-root-ca\.crt|ServiceAccount \S+\/default)$/.test(key));
    // Exactly what the manual uninstall keeps without --purge: namespaces, credentials (database, Orthanc, Grafana), the backups.
    expect(left.sort()).toEqual([
      ...["cert-manager", "istio-ingress", "istio-system", "kiali-operator", "monitoring", "orthanc"].map((name) => `Namespace ${name}`),
      "PersistentVolumeClaim orthanc/orthanc-backups",
      "Secret monitoring/grafana-admin",
      "Secret orthanc/orthanc-admin",
      "Secret orthanc/orthanc-db",
    ]);
    const purged = await runTaskScript(cluster, "manual/uninstall.ts", ["--purge"]);
    expect(purged.exitCode, purged.stderr).toBe(0);
    expect([...(await snapshot(cluster, namespaces, clusterScoped)).keys()]).toEqual([]);
  }, 300_000);
});

describe("gitops approach (make gitops-install ARGS=--skip-upstream): the tree applied in place of Flux", () => {
  const source = ["--url", "https://example.invalid/you/korthweb.git", "--branch", "main"];
  const namespaces = ["flux-system", "bhc", "bhc-ingress", "mhr", "mhr-ingress", "cert-manager", "istio-system", "kiali-operator", "monitoring"];
  const clusterScoped = ["clusterissuers.cert-manager.io"];
  const install = () => runTaskScript(cluster, "gitops/install.ts", ["--skip-upstream", ...source, "--timeout", "180"]);

  it("installs: every step succeeds, each tenant's Orthanc Available, every object of the tree stored as written", async () => {
    const result = await install();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("[skip-upstream] not installing Flux");
    expect(await unavailableDeployments()).toEqual([]);
    for (const tenant of ["bhc", "mhr"]) {
      expect((await kubectlJson<{ items: Workload[] }>(cluster, ["get", "deployments", "-n", tenant])).items.map((item) => item.metadata.name)).toEqual(["orthanc"]);
      const manifest = await runHelm(["get", "manifest", "orthanc", "-n", tenant]);
      expect(manifest).toMatch(/kind: VirtualService/);
      expect(await notStoredAsWritten(objectsOf(manifest, `helm get manifest -n ${tenant} orthanc`), tenant)).toEqual([]);
    }
    const tree = await loadFluxTree(repoRoot);
    const objects = tree.units.flatMap((unit) => unit.objects);
    expect(objects.filter((object) => object.kind === "HelmRelease").length).toBeGreaterThanOrEqual(12);
    expect(await notStoredAsWritten(objects, "default")).toEqual([]);
  }, 300_000);

  it("the Flux lockdown holds under the API server's RBAC: each tenant's account may apply its own workload, nothing of the other tenant's, nothing cluster-wide", async () => {
    const tree = await loadFluxTree(repoRoot);
    const toYamlStream = (objects: readonly KubeObject[]) => objects.map((object) => JSON.stringify(object)).join("\n---\n");
    for (const tenant of tree.tenants) {
      const other = tree.tenants.find((item) => item.name !== tenant.name)!;
      const unit = tenant.unit!;
      const account = `system:serviceaccount:${unit.ref.namespace}:${unit.serviceAccountName}`;
      // What Flux applies as that account: the tenant Kustomization's objects, and the orthanc chart's (helm-controller impersonates it too).
      const chart = objectsOf(await runHelm(["get", "manifest", "orthanc", "-n", tenant.name]), `helm get manifest -n ${tenant.name} orthanc`);
      const own = [...unit.objects, ...chart.map((object) => ({ ...object, metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? tenant.name } }))];
      const applyAs = (objects: readonly KubeObject[]) =>
        kubectl(cluster, ["apply", "--server-side", "--force-conflicts", "--dry-run=server", "--field-manager=lockdown-check", `--as=${account}`, "-f", "-"], toYamlStream(objects));
      const allowed = await applyAs(own);
      expect(allowed.exitCode, allowed.stderr).toBe(0);
      expect(allowed.stdout.trim().split("\n")).toHaveLength(own.length);
      // The same objects moved into the other tenant's namespaces: every one refused.
      const moved = own.map((object) => ({
        ...object,
        metadata: { ...object.metadata, namespace: String(object.metadata?.namespace).replace(new RegExp(`^${tenant.name}(?=$|-)`), other.name) },
      }));
      const refused = await applyAs(moved);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr.match(new RegExp(`forbidden: User "${account}"`, "g")) ?? []).toHaveLength(moved.length);
      for (const [verb, resource] of [["create", "namespaces"], ["create", "clusterrolebindings"], ["create", "customresourcedefinitions"], ["get", "secrets"]] as const) {
        const where = resource === "secrets" ? ["-n", other.name] : [];
        const answer = await kubectl(cluster, ["auth", "can-i", verb, resource, ...where, `--as=${account}`]);
        expect(answer.stdout.trim(), `${account} ${verb} ${resource} ${where.join(" ")}`).toBe("no");
      }
    }
  }, 300_000);

  it("re-runs as a no-op: no object changes, not even the tenants' Helm records", async () => {
    const before = await snapshot(cluster, namespaces, clusterScoped);
    expectHolds(before, ["Deployment bhc/orthanc", "Deployment mhr/orthanc", "Kustomization flux-system/infra-configs", "Secret bhc/orthanc-admin", "Secret mhr/orthanc-admin"]);
    const result = await install();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(snapshotDiff(before, await snapshot(cluster, namespaces, clusterScoped))).toEqual([]);
  }, 300_000);

  it("uninstalls (seeing no Flux, even without --skip-upstream): the tenants' namespaces and Secrets stay (by design); --purge removes everything", async () => {
    const kept = await runTaskScript(cluster, "gitops/uninstall.ts", ["--timeout", "180"]);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(kept.stderr).toContain("no Flux kustomize-controller in flux-system");
    const left = [...(await snapshot(cluster, namespaces, clusterScoped)).keys()].filter((key) => !/^(ConfigMap \S+\/kube-root-ca\.crt|ServiceAccount \S+\/default)$/.test(key));
    // Exactly what the gitops uninstall keeps without --purge: each tenant's namespaces, credentials and backups.
    expect(left.sort()).toEqual(
      ["bhc", "mhr"].flatMap((tenant) => [`Namespace ${tenant}`, `Namespace ${tenant}-ingress`, `PersistentVolumeClaim ${tenant}/orthanc-backups`, `Secret ${tenant}/orthanc-admin`, `Secret ${tenant}/orthanc-db`]).sort(),
    );
    const purged = await runTaskScript(cluster, "gitops/uninstall.ts", ["--skip-upstream", "--purge", "--timeout", "180"]);
    expect(purged.exitCode, purged.stderr).toBe(0);
    expect([...(await snapshot(cluster, namespaces, clusterScoped)).keys()]).toEqual([]);
  }, 300_000);
});

async function runHelm(args: readonly string[]): Promise<string> {
  return (await run(requireToolPath("helm"), args, { env: cluster.env, silent: true })).stdout;
}
