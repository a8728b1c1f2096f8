// Tenant isolation: no object of one tenant (as Git defines it, or as its
// Orthanc release renders) names the other's namespaces, hostnames, Secrets
// or gateway; each tenant has its own gateway, address and certificate.
import { beforeAll, describe, expect, it } from "vitest";
import { checkIsolation, formatProblem, type TenantRender } from "../../proving-ground/checks/gitops/checks.ts";
import { renderTenantReleases } from "../../proving-ground/checks/gitops/release-render.ts";
import { loadFluxTree, renderFluxTree, tenantEndpoints, type FluxTree } from "../../tasks/gitops/tree.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { plainGatewayPorts } from "../../proving-ground/audit/exposure.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();

async function rendersOf(tree: FluxTree): Promise<Map<string, TenantRender>> {
  const out = new Map<string, TenantRender>();
  for (const [tenant, render] of await renderTenantReleases(tree)) out.set(tenant, { objects: render.objects.map((item) => item.object), ...(render.error ? { error: render.error } : {}) });
  return out;
}

async function isolationProblems(root: string): Promise<string[]> {
  const tree = await renderFluxTree(root);
  return checkIsolation(tree, await rendersOf(tree)).map(formatProblem);
}

const patchOrthanc = (op: string) =>
  `patches:\n  - target:\n      kind: HelmRelease\n      name: orthanc\n    patch: |\n${op.split("\n").map((line) => `      ${line}`).join("\n")}\n`;

describe("tenant isolation in the repository", () => {
  let tree: FluxTree;
  let renders: Map<string, TenantRender>;
  beforeAll(async () => {
    tree = await loadFluxTree(repoRoot);
    renders = await rendersOf(tree);
  });

  it("passes every isolation check", () => {
    expect(checkIsolation(tree, renders).map(formatProblem)).toEqual([]);
  });

  it("keeps every object of a tenant, rendered ones included, in its own namespaces and free of the other's names", () => {
    for (const tenant of tree.tenants) {
      const other = tree.tenants.find((t) => t !== tenant)!;
      const objects: KubeObject[] = [...tenant.objects, ...renders.get(tenant.name)!.objects];
      expect(objects.length).toBeGreaterThan(25);
      for (const object of objects) {
        const text = JSON.stringify(object);
        expect(text, `${String(object.kind)} ${String(object.metadata?.name)}`).not.toMatch(new RegExp(`\\b${other.name}\\b|\\bexample\\b`));
        if (object.kind !== "Namespace") expect(tenant.namespaces).toContain(object.metadata?.namespace);
      }
    }
  });

  it("gives each tenant its own gateway Service (LoadBalancer), Gateway, certificate and hostnames", () => {
    const seen = { namespaces: new Set<string>(), hosts: new Set<string>() };
    for (const tenant of tree.tenants) {
      const endpoints = tenantEndpoints(tenant)!;
      const gateway = tenant.releases.find((release) => release.chart.chart === "gateway")!;
      expect(gateway.releaseNamespace).toBe(`${tenant.name}-ingress`);
      expect(gateway.values).toMatchObject({ service: { type: "LoadBalancer" } });
      const rendered = renders.get(tenant.name)!.objects;
      const certificate = rendered.find((o) => o.kind === "Certificate")!;
      expect(certificate.metadata?.namespace).toBe(`${tenant.name}-ingress`);
      expect(certificate.spec).toMatchObject({ dnsNames: [endpoints.web, endpoints.dicom], issuerRef: { name: "korthweb-ca", kind: "ClusterIssuer" } });
      const gatewayObject = rendered.find((o) => o.kind === "Gateway")!;
      expect(gatewayObject.spec).toMatchObject({ selector: { istio: `${tenant.name}-ingress` } });
      // Only TLS on its LoadBalancer: every Service port is a TLS server of its Gateway (no 80, no status port).
      const servicePorts = (gateway.values as { service: { ports: { port: number; targetPort: number }[] } }).service.ports;
      expect(servicePorts.map((port) => port.port)).toEqual([443, 11112]);
      expect(plainGatewayPorts(servicePorts, [gatewayObject])).toEqual([]);
      // Next to its pods (istiod scopes Gateways to their namespace); Orthanc's routes name it there.
      expect(gatewayObject.metadata?.namespace).toBe(`${tenant.name}-ingress`);
      for (const route of rendered.filter((o) => o.kind === "VirtualService")) {
        expect(route.metadata?.namespace).toBe(tenant.name);
        expect((route.spec as { gateways: string[] }).gateways).toEqual([`${tenant.name}-ingress/orthanc`]);
      }
      seen.namespaces.add(gateway.releaseNamespace);
      seen.hosts.add(endpoints.web).add(endpoints.dicom);
    }
    expect(seen.namespaces.size).toBe(2);
    expect(seen.hosts.size).toBe(4);
  });

  it("istiod scopes every Gateway to its own namespace, so no selector reaches another tenant's gateway pods", () => {
    const istiod = tree.releases.find((release) => release.releaseName === "istiod")!;
    expect(istiod.values).toMatchObject({ pilot: { env: { PILOT_SCOPE_GATEWAY_TO_NAMESPACE: "true" } } });
  });
});

describe("tenant isolation violations are reported", () => {
  it("a tenant attached to the other tenant's gateway", async () => {
    const checkout = copy();
    checkout.write(
      "gitops/tenants/mhr/workload/kustomization.yaml",
      checkout.read("gitops/tenants/mhr/workload/kustomization.yaml") + patchOrthanc("- op: replace\n  path: /spec/values/ingress/istio/gatewaySelector/istio\n  value: bhc-ingress"),
    );
    const problems = await isolationProblems(checkout.root);
    expect(problems).toContain('[isolation] tenant mhr: HelmRelease mhr/orthanc .spec.values.ingress.istio.gatewaySelector.istio = "bhc-ingress" names tenant bhc\'s namespace (bhc-ingress)');
    expect(problems).toContain('[isolation] tenant mhr: Orthanc\'s gatewaySelector {"istio":"bhc-ingress"} does not select its gateway\'s pods (istio: mhr-ingress)');
    expect(problems).toContain('[isolation] tenant mhr: Gateway mhr-ingress/orthanc selects {"istio":"bhc-ingress"}, not its own gateway (istio: mhr-ingress)');
  });

  it("a Gateway left in the tenant's workload namespace, where scoped istiod would ignore it", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/orthanc.yaml", "        gatewayResourceNamespace: example-ingress\n", "");
    checkout.edit("gitops/tenants/base/naming/kustomization.yaml", "          - spec.values.ingress.istio.gatewayResourceNamespace\n", "");
    const problems = await isolationProblems(checkout.root);
    expect(problems).toContain("[isolation] tenant bhc: Gateway bhc/orthanc is not in its gateway's namespace bhc-ingress (set ingress.istio.gatewayResourceNamespace: istiod scopes Gateways to their namespace)");
  });

  it("two tenants with the same hostnames", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/mhr/workload/kustomization.yaml", "domain=mhr.korthweb.test", "domain=bhc.korthweb.test");
    const problems = await isolationProblems(checkout.root);
    expect(problems).toContain("[isolation] tenants bhc and mhr: share hostname web.bhc.korthweb.test");
    expect(problems).toContain("[isolation] tenant mhr: HelmRelease mhr/orthanc .spec.values.domain = \"bhc.korthweb.test\" names tenant bhc's namespace (bhc)");
  });

  it("a name of the base tenant left un-renamed", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/network-policies.yaml", "              kubernetes.io/metadata.name: monitoring\n      ports:\n        - port: 15090", "              kubernetes.io/metadata.name: example\n      ports:\n        - port: 15090");
    const problems = await isolationProblems(checkout.root);
    expect(problems).toContain(
      '[isolation] tenant bhc: NetworkPolicy bhc/envoy-metrics .spec.ingress[0].from[0].namespaceSelector.matchLabels.kubernetes.io/metadata.name = "example" names the base\'s placeholder (not renamed) (example)',
    );
  });

  it("a gateway without an address of its own", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/gateway.yaml", "      type: LoadBalancer", "      type: ClusterIP");
    const problems = await isolationProblems(checkout.root);
    expect(problems).toContain("[isolation] tenant bhc: gateway bhc/gateway service.type is not LoadBalancer: no address of its own");
  });

  it("two tenants pinned to one load balancer address", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/gateway.yaml", "      type: LoadBalancer", "      type: LoadBalancer\n      loadBalancerIP: 203.0.113.7");
    expect(await isolationProblems(checkout.root)).toContain("[isolation] tenants bhc and mhr: share load balancer address 203.0.113.7");
  });
});
