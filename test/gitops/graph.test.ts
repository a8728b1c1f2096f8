// The dependency graph: no cycles, every dependsOn exists, tenants depend on
// the infrastructure, every chart source exists — on the real tree, and
// each rule caught on a copy broken on purpose.
import { describe, expect, it } from "vitest";
import { checkGraph, checkRenders, formatProblem } from "../../proving-ground/checks/gitops/checks.ts";
import { loadFluxTree, renderFluxTree } from "../../tasks/gitops/tree.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();
const infrastructure = "gitops/clusters/production/infrastructure.yaml";
const sync = "gitops/tenants/base/onboarding/sync.yaml";

async function graphProblems(root: string): Promise<string[]> {
  const tree = await renderFluxTree(root);
  return [...checkRenders(tree), ...checkGraph(tree)].map(formatProblem);
}

describe("dependency graph", () => {
  it("is sound in the repository", async () => {
    const tree = await loadFluxTree(repoRoot);
    expect([...checkRenders(tree), ...checkGraph(tree)].map(formatProblem)).toEqual([]);
  });

  it("reports a cycle", async () => {
    const checkout = copy();
    checkout.edit(infrastructure, "  interval: 1h\n  retryInterval: 2m\n  timeout: 20m", "  dependsOn:\n    - name: infra-configs\n  interval: 1h\n  retryInterval: 2m\n  timeout: 20m");
    expect(await graphProblems(checkout.root)).toEqual([
      expect.stringMatching(/^\[graph\] Kustomization flux-system\/infra-\w+: dependency cycle: flux-system\/infra-\w+ → flux-system\/infra-\w+ → flux-system\/infra-\w+$/),
    ]);
  });

  it("reports a dependsOn on a Kustomization that does not exist", async () => {
    const checkout = copy();
    checkout.edit(infrastructure, "    - name: infra-controllers", "    - name: infra-controlers");
    expect(await graphProblems(checkout.root)).toContain(
      "[graph] Kustomization flux-system/infra-configs: dependsOn flux-system/infra-controlers, which no folder of this tree defines",
    );
  });

  it("reports tenants that do not wait for the infrastructure", async () => {
    const checkout = copy();
    checkout.edit(sync, "  dependsOn:\n    - name: infra-configs\n      namespace: flux-system\n", "");
    const problems = await graphProblems(checkout.root);
    for (const tenant of ["bhc", "mhr"]) {
      expect(problems).toContain(`[graph] Kustomization ${tenant}/tenant: tenant ${tenant} does not depend on infrastructure flux-system/infra-configs, flux-system/infra-controllers`);
    }
  });

  it("reports a HelmRelease whose chart source or dependency is missing", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/postgresql.yaml", "    kind: OCIRepository\n    name: postgresql\n", "    kind: OCIRepository\n    name: postgres\n");
    checkout.edit("gitops/tenants/base/workload/orthanc.yaml", "    - name: gateway\n", "    - name: gateways\n");
    const problems = await graphProblems(checkout.root);
    expect(problems).toContain("[graph] HelmRelease bhc/postgresql: chart source OCIRepository bhc/postgres is not defined in the tree");
    expect(problems).toContain("[graph] HelmRelease mhr/orthanc: dependsOn HelmRelease mhr/gateways, which does not exist");
  });

  it("reports a folder that does not build", async () => {
    const checkout = copy();
    checkout.edit(sync, "path: ./gitops/tenants/example/workload", "path: ./gitops/tenants/example/workloads");
    const problems = await graphProblems(checkout.root);
    expect(problems).toContain("[render] Kustomization bhc/tenant (./gitops/tenants/bhc/workloads): folder ./gitops/tenants/bhc/workloads does not exist");
  });
});
