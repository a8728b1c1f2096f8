// Chart sources and versions in gitops/ equal the pins in tasks/lib/settings.ts
// (OCIRepository where upstream publishes OCI charts — Istio, cert-manager,
// kube-prometheus-stack, PostgreSQL — HelmRepository for Kiali), and the
// tenants' PostgreSQL matches helm/postgresql.values.yaml.
import { describe, expect, it } from "vitest";
import { checkPins, formatProblem } from "../../proving-ground/checks/gitops/checks.ts";
import { loadFluxTree, renderFluxTree } from "../../tasks/gitops/tree.ts";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();
const postgresqlValues = (root: string) => `${root}/helm/postgresql.values.yaml`;

describe("pins", () => {
  it("every source and chart version in the tree is the pinned one", async () => {
    const tree = await loadFluxTree(repoRoot);
    expect(checkPins(tree, fromRoot("helm", "postgresql.values.yaml")).map(formatProblem)).toEqual([]);
    const source = (kind: string, name: string) => tree.objects.find((o) => o.kind === kind && o.metadata?.name === name)?.spec as Record<string, unknown>;
    for (const [name, chart] of [["istio-base", "base"], ["istio-cni", "cni"], ["istiod", "istiod"], ["istio-gateway", "gateway"]]) {
      expect(source("OCIRepository", name!)).toMatchObject({ url: `${pins.istio.charts}/${chart}`, ref: { tag: pins.istio.version } });
    }
    expect(tree.objects.filter((o) => o.kind === "HelmRepository").map((o) => o.metadata?.name)).toEqual(["kiali"]);
    expect(source("HelmRepository", "kiali")).toMatchObject({ url: pins.kialiOperatorChart.repo });
    expect(source("OCIRepository", "cert-manager")).toMatchObject({ url: pins.certManagerChart.chart, ref: { tag: pins.certManagerChart.version } });
    expect(source("OCIRepository", "kube-prometheus-stack")).toMatchObject({ url: pins.kubePrometheusStackChart.chart, ref: { tag: pins.kubePrometheusStackChart.version } });
    expect(source("OCIRepository", "postgresql")).toMatchObject({ url: pins.postgresqlChart.chart, ref: { tag: pins.postgresqlChart.version } });
    const versions = Object.fromEntries(tree.releases.filter((r) => r.chart.version).map((r) => [r.ref.name, r.chart.version]));
    expect(versions).toEqual({ "kiali-operator": pins.kialiOperatorChart.version });
    // Every Istio release, the tenants' gateways included, takes its chart from an OCIRepository at the pinned tag.
    const istioReleases = tree.releases.filter((r) => ["base", "cni", "istiod", "gateway"].includes(r.chart.chart ?? ""));
    expect(istioReleases.map((r) => `${r.ref.name} ${r.chart.sourceKind}`).sort()).toEqual([
      "gateway OCIRepository",
      "gateway OCIRepository",
      "istio-base OCIRepository",
      "istio-cni OCIRepository",
      "istiod OCIRepository",
    ]);
    // Istio's images from the pinned registry, not 1.30's default (retired late 2026); gateways get theirs from istiod's injector.
    for (const release of istioReleases.filter((r) => ["cni", "istiod"].includes(r.chart.chart!))) {
      expect(release.object.spec, release.ref.name).toMatchObject({ values: { hub: pins.istio.hub, global: { hub: pins.istio.hub } } });
    }
    // OCI charts are referenced through chartRef, never a HelmRepository of type oci.
    for (const release of tree.releases.filter((r) => r.chart.sourceKind === "OCIRepository")) expect(release.object.spec).toHaveProperty("chartRef");
  });

  it("reports a source tag, a chart version or a URL off its pin", async () => {
    const checkout = copy();
    checkout.edit("gitops/infrastructure/controllers/sources.yaml", "tag: v1.21.3", "tag: v1.21.2");
    checkout.edit("gitops/infrastructure/controllers/sources.yaml", "charts/istiod\n  ref:\n    tag: 1.30.5", "charts/istiod\n  ref:\n    tag: 1.30.4");
    checkout.edit("gitops/infrastructure/controllers/sources.yaml", "url: https://kiali.org/helm-charts", "url: https://example.org/helm-charts");
    const problems = checkPins(await renderFluxTree(checkout.root)).map(formatProblem);
    expect(problems).toContain('[pins] OCIRepository flux-system/cert-manager: ref {"tag":"v1.21.2"} must be exactly {tag: v1.21.3} (pins.certManagerChart)');
    expect(problems).toContain('[pins] OCIRepository flux-system/istiod: ref {"tag":"1.30.4"} must be exactly {tag: 1.30.5} (pins.istio)');
    // A chart version off its pin (HelmRepository charts carry their version in the HelmRelease).
    const versionOff = copy();
    versionOff.edit("gitops/infrastructure/controllers/kiali.yaml", "      version: 2.32.0", "      version: 2.31.0");
    expect(checkPins(await renderFluxTree(versionOff.root)).map(formatProblem)).toEqual([
      "[pins] HelmRelease flux-system/kiali-operator: chart kiali-operator version 2.31.0 is not 2.32.0 (pins.kialiOperatorChart)",
    ]);
    expect(problems).toContain("[pins] HelmRepository flux-system/kiali: url https://example.org/helm-charts is not a chart source pinned in tasks/lib/settings.ts");
    expect(problems).toContain("[pins] pins.kialiOperatorChart: no HelmRepository for https://kiali.org/helm-charts in the tree");
  });

  it("reports a tenant PostgreSQL that drifts from helm/postgresql.values.yaml", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/postgresql.yaml", "tag: 17.6.0-debian-12-r4", "tag: 17.6.0-debian-12-r5");
    const problems = checkPins(await renderFluxTree(checkout.root), postgresqlValues(checkout.root)).map(formatProblem);
    expect(problems).toContain('[pins] HelmRelease bhc/postgresql: values.image.tag is "17.6.0-debian-12-r5", but helm/postgresql.values.yaml says "17.6.0-debian-12-r4"');
  });
});
