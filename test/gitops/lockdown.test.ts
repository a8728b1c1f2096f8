// Flux multi-tenancy lockdown: each tenant's Kustomization and HelmReleases
// run as the tenant's own service account, which the platform creates and
// binds in the tenant's namespaces only.
import { describe, expect, it } from "vitest";
import { checkLockdown, formatProblem } from "../../tasks/gitops/checks.ts";
import { loadFluxTree, renderFluxTree } from "../../tasks/gitops/tree.ts";
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
