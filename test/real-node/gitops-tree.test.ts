// The real-node tier's cluster folder of the gitops tree (gitops/clusters/
// real-node), without a node: it renders as Flux would, passes the same tree
// checks `make gitops-install` runs, keeps production's order and lockdown,
// swaps exactly the upstream parts for stand-ins, and its generated PostgreSQL
// stand-in is what the generator makes of the tenants' PostgreSQL values.
// Also the stand-in for Flux's install.yaml, shaped from module-like parts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkGraph, checkIsolation, checkLockdown, checkPins, checkRenders, formatProblem } from "../../proving-ground/checks/gitops/checks.ts";
import { checkFluxLockdown } from "../../proving-ground/checks/gitops/flux-lockdown-check.ts";
import { controllerObjects, fluxNamespace, gitopsImageNames } from "../../proving-ground/real-node/flux.ts";
import { realNodeClusterPath, standInFile, standInFileText } from "../../proving-ground/real-node/gitops-tree.ts";
import { lockdownGaps } from "../../tasks/gitops/flux-lockdown.ts";
import { checkFluxManifest } from "../../tasks/gitops/flux.ts";
import { dependencyOrder, orthancRelease, refId, renderFluxTree } from "../../tasks/gitops/tree.ts";
import { toYaml, type KubeObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";

const tree = await renderFluxTree(repoRoot, realNodeClusterPath);
const production = await renderFluxTree(repoRoot, "./gitops/clusters/production");

describe("gitops/clusters/real-node", () => {
  it("passes every tree check make gitops-install runs before changing anything", () => {
    const problems = [...checkRenders(tree), ...checkGraph(tree), ...checkLockdown(tree), ...checkFluxLockdown(tree), ...checkIsolation(tree), ...checkPins(tree)];
    expect(problems.map(formatProblem)).toEqual([]);
  });

  it("keeps production's tenants and order: infrastructure controllers → configs → each tenant", () => {
    expect(tree.tenants.map((tenant) => tenant.name).sort()).toEqual(production.tenants.map((tenant) => tenant.name).sort());
    const order = dependencyOrder(tree.units).map((unit) => refId(unit.ref));
    for (const tenant of tree.tenants) {
      const unit = refId(tenant.unit!.ref);
      expect(order.indexOf("flux-system/infra-controllers")).toBeLessThan(order.indexOf("flux-system/infra-configs"));
      expect(order.indexOf("flux-system/infra-configs")).toBeLessThan(order.indexOf(unit));
      expect(tenant.unit!.dependsOn.map(refId)).toContain("flux-system/infra-configs");
    }
  });

  it("swaps exactly the upstream parts: no upstream chart, no Istio object; Orthanc from Git with the tier's image; the PostgreSQL stand-in per tenant", () => {
    expect(tree.releases.map((release) => `${refId(release.ref)} ${release.chart.sourceKind} ${release.chart.chart}`).sort()).toEqual([
      "bhc/orthanc GitRepository ./helm/orthanc",
      "mhr/orthanc GitRepository ./helm/orthanc",
    ]);
    expect(tree.objects.filter((o) => String(o.apiVersion).includes("istio.io") || o.kind === "OCIRepository" || o.kind === "HelmRepository")).toEqual([]);
    for (const tenant of tree.tenants) {
      const orthanc = orthancRelease(tenant)!;
      expect(orthanc.values.image).toMatchObject({ repository: gitopsImageNames.orthanc.split(":")[0], tag: gitopsImageNames.orthanc.split(":")[1], pullPolicy: "Never" });
      const statefulSet = tenant.objects.find((o) => o.kind === "StatefulSet")!;
      expect(statefulSet.metadata?.namespace).toBe(tenant.name);
      expect((statefulSet.spec as any).template.spec.containers[0].image).toBe(gitopsImageNames.postgresql);
      expect(statefulSet.metadata?.labels).toMatchObject({ "korthweb.io/stand-in": "true" });
    }
  });

  it("keeps each tenant's own workload folder: what production's tenant sets, the real-node tenant sets too", () => {
    for (const tenant of tree.tenants) {
      const here = orthancRelease(tenant)!.values;
      const there = orthancRelease(production.tenants.find((t) => t.name === tenant.name)!)!.values;
      for (const key of ["domain", "backup", "networkPolicy", "tests"]) expect(here[key], key).toEqual(there[key]);
    }
  });

  it("is locked down by the same patches as production", () => {
    const patches = (cluster: string) => (parse(readFileSync(join(repoRoot, "gitops", "clusters", cluster, "flux-system", "kustomization.yaml"), "utf8")) as { patches: unknown }).patches;
    expect(patches("real-node")).toEqual(patches("production"));
  });

  it("holds the PostgreSQL stand-in the generator makes of the tenants' PostgreSQL values (node proving-ground/real-node/gitops-tree.ts --write)", () => {
    expect(readFileSync(standInFile, "utf8")).toBe(standInFileText());
  });
});

describe("the stand-in for Flux's install.yaml", () => {
  const part = (text: string): KubeObject[] => text.split("\n---\n").map((doc) => parse(doc) as KubeObject);
  const crd = part("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: kustomizations.kustomize.toolkit.fluxcd.io}");
  const manager = part(
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kustomize-controller}\nspec: {selector: {matchLabels: {app: kustomize-controller}}, template: {metadata: {labels: {app: kustomize-controller}}, spec: {containers: [{name: manager, image: fluxcd/kustomize-controller, args: [--watch-all-namespaces]}]}}}",
  );
  const rbac = part(
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: kustomize-cluster-reconciler}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: system}]",
  );
  const objects = controllerObjects("kustomize-controller", "korthweb.local/flux-controllers:test", { crd, manager, rbac });

  it("runs each controller in flux-system as its own service account, with our image and its binary as the command, keeping the module's arguments", () => {
    const deployment = objects.find((o) => o.kind === "Deployment") as any;
    expect(deployment.metadata.namespace).toBe(fluxNamespace);
    expect(deployment.spec.template.spec.serviceAccountName).toBe("kustomize-controller");
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ image: "korthweb.local/flux-controllers:test", imagePullPolicy: "Never", command: ["/usr/local/bin/kustomize-controller"], args: ["--watch-all-namespaces"] });
    expect((objects.find((o) => o.kind === "ClusterRoleBinding") as any).subjects).toEqual([{ kind: "ServiceAccount", name: "kustomize-controller", namespace: fluxNamespace }]);
    expect(objects.find((o) => o.kind === "ServiceAccount")?.metadata).toMatchObject({ name: "kustomize-controller", namespace: fluxNamespace });
    expect(objects.find((o) => o.kind === "CustomResourceDefinition")?.metadata?.namespace).toBeUndefined();
  });

  it("is named a stand-in on every object, and carries the Flux version step 2 checks", () => {
    for (const object of objects) expect(object.metadata?.labels, `${object.kind}`).toMatchObject({ "korthweb.io/stand-in": "true", "app.kubernetes.io/version": pins.flux.version });
  });

  it("without notification-controller, is still locked down once the patches apply (nothing of it to lock); without kustomize-controller it is not", () => {
    const locked = objects.map((o) => (o.kind === "Deployment" ? { ...o, spec: structuredClone(o.spec) } : o)) as any[];
    locked.find((o) => o.kind === "Deployment").spec.template.spec.containers[0].args.push("--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=flux-no-rights");
    const gaps = lockdownGaps(locked);
    expect(gaps).toEqual(['no Deployment flux-system/helm-controller with a "manager" container']);
    expect(lockdownGaps(locked.filter((o) => o.kind !== "Deployment"))).toContain('no Deployment flux-system/kustomize-controller with a "manager" container');
  });

  it("passes step 2's check of the manifest only with the Flux CRDs the tree uses", () => {
    expect(() => checkFluxManifest(toYaml(objects), "stand-in")).toThrow(/lacks the CRDs gitrepositories/);
  });
});
