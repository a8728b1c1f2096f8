// "Adding a tenant is one folder plus one line": a copy of the repository
// gets the fixture folder tenants/ghc (what a user writes: bhc's two files
// with the name changed) and one line in the cluster's kustomization.yaml;
// every check then passes for three tenants, and the install steps pick the
// new tenant up without any other change.
import { cpSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tenantSecrets } from "../../tasks/gitops/03-secrets.ts";
import { waitPlan } from "../../tasks/gitops/06-wait.ts";
import { formatProblem } from "../../proving-ground/checks/gitops/checks.ts";
import { renderFluxTree, tenantEndpoints } from "../../tasks/gitops/tree.ts";
import { verifyCheckout, type Verification } from "../../proving-ground/checks/gitops/verify.ts";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";
import { formatFinding } from "../../proving-ground/validate/finding.ts";
import { useCheckoutCopies, type Checkout } from "./copy.ts";

const copy = useCheckoutCopies();
const fixture = fromRoot("test", "fixtures", "gitops", "tenants", "ghc");
const clusterFile = "gitops/clusters/production/kustomization.yaml";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function addThirdTenant(checkout: Checkout): void {
  cpSync(fixture, join(checkout.root, "gitops", "tenants", "ghc"), { recursive: true });
  checkout.edit(clusterFile, "  - ../../tenants/mhr\n", "  - ../../tenants/mhr\n  - ../../tenants/ghc\n");
}

describe("a third tenant: one folder plus one line", () => {
  let checkout: Checkout;
  let result: Verification;
  beforeAll(async () => {
    checkout = copy();
    addThirdTenant(checkout);
    result = await verifyCheckout(checkout.root);
  });

  it("is exactly one new folder and one added line", () => {
    const original = filesUnder(join(repoRoot, "gitops")).map((path) => relative(repoRoot, path));
    const now = filesUnder(join(checkout.root, "gitops")).map((path) => relative(checkout.root, path));
    expect(now.filter((file) => !original.includes(file)).sort()).toEqual(["gitops/tenants/ghc/kustomization.yaml", "gitops/tenants/ghc/workload/kustomization.yaml"]);
    const changed = original.filter((file) => readFileSync(join(repoRoot, file), "utf8") !== readFileSync(join(checkout.root, file), "utf8"));
    expect(changed).toEqual([clusterFile]);
    const before = readFileSync(join(repoRoot, clusterFile), "utf8").split("\n");
    const after = checkout.read(clusterFile).split("\n");
    expect(after.filter((line) => !before.includes(line))).toEqual(["  - ../../tenants/ghc"]);
    expect(after.length).toBe(before.length + 1);
  });

  it("passes every check: render, graph, lockdown, isolation, pins, and the validator on all output", () => {
    expect(result.problems.map(formatProblem)).toEqual([]);
    expect(result.findings.map(formatFinding)).toEqual([]);
    expect(result.tree.tenants.map((tenant) => tenant.name).sort()).toEqual(["bhc", "ghc", "mhr"]);
  });

  it("gives the new tenant its own namespaces, gateway, hostnames and Secrets", () => {
    const ghc = result.tree.tenants.find((tenant) => tenant.name === "ghc")!;
    expect(ghc.namespaces.sort()).toEqual(["ghc", "ghc-ingress"]);
    expect(ghc.unit?.path).toBe("./gitops/tenants/ghc/workload");
    expect(tenantEndpoints(ghc)).toMatchObject({ web: "web.ghc.korthweb.test", dicom: "dicom.ghc.korthweb.test", gateway: { namespace: "ghc-ingress", service: "ghc-ingress" } });
    expect(tenantSecrets(ghc).map((secret) => `${secret.namespace}/${secret.name}: ${Object.keys(secret.keys).join(",")}`)).toEqual([
      "ghc/orthanc-admin: username,password",
      "ghc/orthanc-db: password,postgres-password",
    ]);
  });

  it("is awaited by the install after the infrastructure, like the others", () => {
    const plan = waitPlan(result.tree, ["bhc", "ghc", "mhr"]).map((item) => `${item.resource.split(".")[0]} ${item.ref.namespace}/${item.ref.name}`);
    expect(plan.indexOf("kustomizations flux-system/infra-configs")).toBeLessThan(plan.indexOf("helmreleases ghc/gateway"));
    expect(plan.slice(plan.indexOf("helmreleases ghc/gateway"), plan.indexOf("kustomizations ghc/tenant") + 1)).toEqual([
      "helmreleases ghc/gateway",
      "helmreleases ghc/postgresql",
      "helmreleases ghc/orthanc",
      "kustomizations ghc/tenant",
    ]);
  });
});

describe("a third tenant copied without renaming everything", () => {
  it("is caught: its workload still deploys into bhc", async () => {
    const checkout = copy();
    addThirdTenant(checkout);
    checkout.edit("gitops/tenants/ghc/workload/kustomization.yaml", "      - name=ghc\n", "      - name=bhc\n");
    const problems = (await verifyCheckout(checkout.root)).problems.map(formatProblem);
    expect(problems).toContain("[lockdown] tenant ghc: HelmRelease bhc/orthanc is outside the tenant's namespaces (its account may not create it)");
  });

  it("is caught: the one line forgotten leaves the tenant undeployed", async () => {
    const checkout = copy();
    cpSync(fixture, join(checkout.root, "gitops", "tenants", "ghc"), { recursive: true });
    const tree = await renderFluxTree(checkout.root);
    expect(tree.tenants.map((tenant) => tenant.name).sort()).toEqual(["bhc", "mhr"]);
  });
});
