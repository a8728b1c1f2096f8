// Flux multi-tenancy lockdown: each tenant's Kustomization and HelmReleases
// run as the tenant's own service account, which the platform creates and
// binds in the tenant's namespaces only; and the tree works with Flux's
// controllers locked down (no cross-namespace references, a default account
// without rights): the platform's objects name the controllers' accounts,
// and each tenant reads only sources in its own namespace.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { checkLockdown, formatProblem } from "../../proving-ground/checks/gitops/checks.ts";
import { entryKustomizationObject } from "../../tasks/gitops/flux.ts";
import { checkFluxLockdown, checkNoRemoteBases } from "../../proving-ground/checks/gitops/flux-lockdown-check.ts";
import { bootstrap, loadFluxTree, refId, renderFluxTree } from "../../tasks/gitops/tree.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();
const lockdownProblems = async (root: string) => checkLockdown(await renderFluxTree(root)).map(formatProblem);

describe("tenant lockdown", () => {
  it("holds in the repository", async () => {
    const tree = await loadFluxTree(repoRoot);
    expect(checkLockdown(tree).map(formatProblem)).toEqual([]);
    for (const tenant of tree.tenants) {
      expect(tenant.unit?.serviceAccountName).toBe("flux-reconciler");
      for (const release of tenant.releases) expect(release.serviceAccountName, release.ref.name).toBe("flux-reconciler");
    }
    // Rights come from RoleBindings in the tenant's two namespaces, nothing cluster-wide.
    const bindings = tree.objects.filter((o) => o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding");
    expect(bindings.map((o) => `${String(o.kind)} ${String(o.metadata?.namespace)}`).sort()).toEqual([
      "RoleBinding bhc",
      "RoleBinding bhc-ingress",
      "RoleBinding mhr",
      "RoleBinding mhr-ingress",
    ]);
  });

  it("reports a tenant Kustomization without its own account", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/onboarding/sync.yaml", "  serviceAccountName: flux-reconciler\n", "");
    expect(await lockdownProblems(checkout.root)).toContain(
      "[lockdown] tenant bhc: Kustomization bhc/tenant has no serviceAccountName: it would apply with the controller's cluster-wide rights",
    );
  });

  it("reports a HelmRelease that would run as helm-controller", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/gateway.yaml", "  serviceAccountName: flux-reconciler\n", "");
    expect(await lockdownProblems(checkout.root)).toContain(
      "[lockdown] tenant mhr: HelmRelease mhr/gateway runs as helm-controller (cluster-wide), not flux-reconciler",
    );
  });

  it("reports rights outside the tenant's namespaces, missing rights, and installs elsewhere", async () => {
    const checkout = copy();
    checkout.write(
      "gitops/tenants/bhc/cluster-admin.yaml",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: bhc-everywhere\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: flux-reconciler\n    namespace: bhc\n",
    );
    checkout.edit("gitops/tenants/bhc/kustomization.yaml", "  - ../base/onboarding\n", "  - ../base/onboarding\n  - cluster-admin.yaml\n");
    // The binding in <tenant>-ingress names another account.
    const reconciler = checkout.read("gitops/tenants/base/onboarding/reconciler.yaml");
    const last = reconciler.lastIndexOf("    name: flux-reconciler\n");
    checkout.write("gitops/tenants/base/onboarding/reconciler.yaml", `${reconciler.slice(0, last)}    name: someone-else\n${reconciler.slice(last + "    name: flux-reconciler\n".length)}`);
    // A gateway installed into a namespace of its own choosing (the naming component makes it <tenant>-system).
    checkout.edit("gitops/tenants/base/workload/gateway.yaml", "  targetNamespace: example-ingress", "  targetNamespace: example-system");
    const problems = await lockdownProblems(checkout.root);
    expect(problems).toContain("[lockdown] tenant bhc: ClusterRoleBinding bhc-everywhere gives flux-reconciler rights in every namespace");
    expect(problems).not.toContain("[lockdown] tenant mhr: ClusterRoleBinding bhc-everywhere gives flux-reconciler rights in every namespace");
    expect(problems).toContain("[lockdown] tenant mhr: no RoleBinding gives flux-reconciler rights in its namespace mhr-ingress");
    expect(problems).toContain("[lockdown] tenant bhc: HelmRelease bhc/gateway installs into bhc-system, outside the tenant");
  });
});

describe("the tree under Flux's lockdown (--no-cross-namespace-refs, --default-service-account)", () => {
  const fluxLockdownProblems = async (root: string) => checkFluxLockdown(await renderFluxTree(root)).map(formatProblem);

  it("names the controllers' own accounts on every platform object, and reads every source from the object's own namespace", async () => {
    const tree = await loadFluxTree(repoRoot);
    expect(checkFluxLockdown(tree).map(formatProblem)).toEqual([]);
    const platform = [
      ...tree.units.filter((unit) => unit.object && unit.ref.namespace === bootstrap.namespace).map((unit) => `Kustomization ${refId(unit.ref)} ${unit.serviceAccountName}`),
      ...tree.releases.filter((release) => release.ref.namespace === bootstrap.namespace).map((release) => `HelmRelease ${refId(release.ref)} ${release.serviceAccountName}`),
    ];
    expect(platform.sort()).toEqual([
      "HelmRelease flux-system/cert-manager helm-controller",
      "HelmRelease flux-system/istio-base helm-controller",
      "HelmRelease flux-system/istio-cni helm-controller",
      "HelmRelease flux-system/istiod helm-controller",
      "HelmRelease flux-system/kiali-operator helm-controller",
      "HelmRelease flux-system/kube-prometheus-stack helm-controller",
      "Kustomization flux-system/infra-configs kustomize-controller",
      "Kustomization flux-system/infra-controllers kustomize-controller",
    ]);
    // Every HelmRelease of the tree is in flux-system or a tenant's namespace: none elsewhere could name an account with rights.
    const tenantNamespaces = tree.tenants.flatMap((tenant) => tenant.namespaces);
    for (const release of tree.releases) expect([bootstrap.namespace, ...tenantNamespaces], refId(release.ref)).toContain(release.ref.namespace);
    for (const unit of tree.units) expect(unit.sourceRef.namespace, refId(unit.ref)).toBe(unit.ref.namespace);
    for (const release of tree.releases) expect(release.chart.source.namespace, refId(release.ref)).toBe(release.ref.namespace);
    // The entry Kustomization, made by the bootstrap, names kustomize-controller too.
    const entry = entryKustomizationObject({ url: "https://example.test/k.git", branch: "main", path: "./gitops/clusters/production" });
    expect((entry.spec as any).serviceAccountName).toBe("kustomize-controller");
  });

  it("reports platform objects that name no account or another one, cross-namespace sources, and rights for the fallback account", async () => {
    const checkout = copy();
    checkout.edit("gitops/clusters/production/infrastructure.yaml", "  serviceAccountName: kustomize-controller\n  dependsOn:", "  dependsOn:");
    checkout.edit("gitops/infrastructure/controllers/kiali.yaml", "  serviceAccountName: helm-controller\n", "");
    checkout.edit("gitops/infrastructure/controllers/cert-manager.yaml", "  serviceAccountName: helm-controller\n", "  serviceAccountName: default\n");
    checkout.edit("gitops/tenants/base/workload/gateway.yaml", "    name: istio-gateway\n", "    name: istio-gateway\n    namespace: flux-system\n");
    checkout.write(
      "gitops/infrastructure/controllers/fallback.yaml",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: fallback-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: flux-no-rights\n    namespace: bhc\n",
    );
    checkout.edit("gitops/infrastructure/controllers/kustomization.yaml", "  - kiali.yaml\n", "  - kiali.yaml\n  - fallback.yaml\n");
    const problems = await fluxLockdownProblems(checkout.root);
    expect(problems).toContain(
      "[lockdown] Kustomization flux-system/infra-configs: names no serviceAccountName: under Flux's --default-service-account it would run as flux-no-rights, with no rights (name kustomize-controller)",
    );
    expect(problems).toContain(
      "[lockdown] HelmRelease flux-system/kiali-operator: names no serviceAccountName: under Flux's --default-service-account it would run as flux-no-rights, with no rights (name helm-controller)",
    );
    expect(problems).toContain(
      "[lockdown] HelmRelease flux-system/cert-manager: runs as default, which is neither helm-controller (the controller's own account) nor a ServiceAccount the tree creates in flux-system",
    );
    for (const tenant of ["bhc", "mhr"]) {
      expect(problems).toContain(
        `[lockdown] HelmRelease ${tenant}/gateway: reads OCIRepository flux-system/istio-gateway from another namespace: Flux runs with --no-cross-namespace-refs and refuses it (give ${tenant} its own source)`,
      );
    }
    expect(problems).toContain(
      "[lockdown] ClusterRoleBinding fallback-admin: gives flux-no-rights rights: it is the account Flux falls back to for objects that name none, and must have none",
    );
    expect(problems).toHaveLength(6);
  });
});

describe("remote bases (kustomize-controller runs with --no-remote-bases)", () => {
  it("none in the repository; one added is reported", () => {
    expect(checkNoRemoteBases(repoRoot)).toEqual([]);
    const checkout = copy();
    checkout.edit("gitops/tenants/bhc/workload/kustomization.yaml", "  - ../../base/workload\n", "  - ../../base/workload\n  - https://github.com/example/manifests//podinfo?ref=v1\n");
    expect(checkNoRemoteBases(checkout.root).map(formatProblem)).toEqual([
      "[lockdown] gitops/tenants/bhc/workload/kustomization.yaml: remote base https://github.com/example/manifests//podinfo?ref=v1: kustomize-controller runs with --no-remote-bases=true and refuses it (vendor it into the repository)",
    ]);
  });
});

describe("the tenants' copies of the repository", () => {
  it("are placeholders in Git that the entry Kustomization's patch points at the fork, with its credentials", async () => {
    const checkout = copy();
    const source = { url: "ssh://git@git.example.test/you/korthweb.git", branch: "feature/x", path: "./gitops/clusters/production", secretName: "korthweb-git" };
    // What kustomize-controller does with the entry: build the cluster folder, then apply its patches.
    mkdirSync(join(checkout.root, "gitops/clusters/entry"));
    checkout.write("gitops/clusters/entry/kustomization.yaml", stringify({ resources: ["../production"], patches: (entryKustomizationObject(source).spec as any).patches }));
    const patched = await renderFluxTree(checkout.root, "./gitops/clusters/entry");
    const plain = await loadFluxTree(repoRoot);
    const copies = (objects: typeof plain.objects) => objects.filter((o) => o.kind === "GitRepository").map((o) => ({ namespace: o.metadata?.namespace, spec: o.spec }));
    expect(copies(plain.objects).map((c) => (c.spec as any).url)).toEqual(["https://git.invalid/set-by-make-gitops-install", "https://git.invalid/set-by-make-gitops-install"]);
    for (const copyOf of copies(patched.objects)) {
      expect(copyOf.spec, String(copyOf.namespace)).toEqual({
        interval: "1m",
        url: source.url,
        ref: { branch: "feature/x" },
        secretRef: { name: "korthweb-git" },
        ignore: "/*\n!/gitops/\n!/helm/\n",
      });
    }
    expect(copies(patched.objects).map((c) => c.namespace).sort()).toEqual(["bhc", "mhr"]);
    // Nothing else changes.
    const others = (objects: typeof plain.objects) => objects.filter((o) => o.kind !== "GitRepository");
    expect(others(patched.objects)).toEqual(others(plain.objects));
  });
});
