// The Flux tree as Flux would apply it: every kustomization under gitops/
// builds and its output is clean under the validator; the entry folder leads
// to the infrastructure and both tenants, each with its namespaces and releases.
import { describe, expect, it } from "vitest";
import { formatFinding } from "../../proving-ground/validate/finding.ts";
import { kustomizeSources } from "../../proving-ground/validate/sources.ts";
import { validateSources } from "../../proving-ground/validate/validate.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { dependencyOrder, loadFluxTree, refId, tenantEndpoints } from "../../tasks/gitops/tree.ts";

describe("kubectl kustomize of every kustomization under gitops/", () => {
  it("builds each one and the validator finds nothing in any output", async () => {
    const sources = kustomizeSources(repoRoot);
    const labels = sources.map((source) => source.label);
    // The component is built through the tenants that include it, not alone.
    expect(labels).not.toContain("kubectl kustomize gitops/tenants/base/naming");
    expect(labels).toEqual(
      expect.arrayContaining([
        "kubectl kustomize gitops/clusters/production",
        "kubectl kustomize gitops/infrastructure/controllers",
        "kubectl kustomize gitops/infrastructure/configs",
        "kubectl kustomize gitops/tenants/base/onboarding",
        "kubectl kustomize gitops/tenants/base/workload",
        "kubectl kustomize gitops/tenants/bhc",
        "kubectl kustomize gitops/tenants/bhc/workload",
        "kubectl kustomize gitops/tenants/mhr",
        "kubectl kustomize gitops/tenants/mhr/workload",
      ]),
    );
    const results = await validateSources(sources);
    const findings = results.flatMap((result) => result.findings);
    expect(findings.map(formatFinding)).toEqual([]);
    for (const result of results) expect(result.objects, result.source.label).toBeGreaterThan(0);
  });
});

describe("the tree Flux applies from gitops/clusters/production", () => {
  it("reaches the infrastructure and one Kustomization per tenant, and every folder renders", async () => {
    const tree = await loadFluxTree(repoRoot);
    expect(tree.units.map((unit) => refId(unit.ref)).sort()).toEqual(
      ["bhc/tenant", "flux-system/infra-configs", "flux-system/infra-controllers", "flux-system/korthweb", "mhr/tenant"],
    );
    for (const unit of tree.units) expect(unit.renderError, unit.path).toBeUndefined();
    expect(tree.tenants.map((tenant) => tenant.name).sort()).toEqual(["bhc", "mhr"]);
  });

  it("orders infrastructure controllers, then configs, then the tenants", async () => {
    const tree = await loadFluxTree(repoRoot);
    const order = dependencyOrder(tree.units).map((unit) => refId(unit.ref));
    expect(order.indexOf("flux-system/infra-controllers")).toBeLessThan(order.indexOf("flux-system/infra-configs"));
    for (const tenant of ["bhc/tenant", "mhr/tenant"]) expect(order.indexOf("flux-system/infra-configs")).toBeLessThan(order.indexOf(tenant));
  });

  it("gives each tenant two namespaces, a gateway, PostgreSQL and Orthanc from the chart in Git", async () => {
    const tree = await loadFluxTree(repoRoot);
    for (const tenant of tree.tenants) {
      expect(tenant.namespaces.sort()).toEqual([tenant.name, `${tenant.name}-ingress`]);
      const charts = tenant.releases.map((release) => `${release.chart.sourceKind} ${refId(release.chart.source)} ${release.chart.chart ?? ""}`.trim()).sort();
      // Each from a source in the tenant's own namespace (Flux refuses cross-namespace references).
      expect(charts).toEqual([
        `GitRepository ${tenant.name}/korthweb ./helm/orthanc`,
        `OCIRepository ${tenant.name}/istio-gateway gateway`,
        `OCIRepository ${tenant.name}/postgresql postgresql`,
      ]);
      const orthanc = tenant.releases.find((release) => release.chart.chart === "./helm/orthanc")!;
      expect(orthanc.object.spec).toMatchObject({ chart: { spec: { reconcileStrategy: "Revision" } } });
      expect(tenantEndpoints(tenant)).toMatchObject({
        web: `web.${tenant.name}.korthweb.test`,
        dicom: `dicom.${tenant.name}.korthweb.test`,
        gateway: { namespace: `${tenant.name}-ingress`, service: `${tenant.name}-ingress` },
        tlsSecret: { namespace: `${tenant.name}-ingress`, name: "orthanc-tls" },
        credentialsSecret: { namespace: tenant.name, name: "orthanc-admin" },
      });
    }
  });

  it("uses only the Flux APIs served today", async () => {
    const tree = await loadFluxTree(repoRoot);
    const fluxApis = new Set(tree.objects.map((o) => String(o.apiVersion)).filter((api) => api.includes("fluxcd.io")));
    expect([...fluxApis].sort()).toEqual(["helm.toolkit.fluxcd.io/v2", "kustomize.toolkit.fluxcd.io/v1", "source.toolkit.fluxcd.io/v1"]);
  });

  it("commits no Secret: credentials are made at install time", async () => {
    const tree = await loadFluxTree(repoRoot);
    expect(tree.objects.filter((o) => o.kind === "Secret")).toEqual([]);
  });
});
