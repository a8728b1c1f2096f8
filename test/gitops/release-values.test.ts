// The tenants' Orthanc values live inline in gitops/ HelmReleases. `make
// validate` renders them through the chart too (proving-ground/validate/gitops-releases.ts,
// tested in test/validate/gitops-releases.test.ts); here the same renders
// (helm template, then the release's post-renderers, as helm-controller does)
// are checked for what they must wire up, and go through the validator once more.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { renderGitRelease, renderTenantReleases, type ReleaseRender } from "../../proving-ground/checks/gitops/release-render.ts";
import { loadFluxTree, orthancRelease, record, renderFluxTree, type FluxTree } from "../../tasks/gitops/tree.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";
import { formatFinding } from "../../proving-ground/validate/finding.ts";
import { validateObjects } from "../../proving-ground/validate/validate.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();

describe("each tenant's Orthanc values, rendered by helm/orthanc", () => {
  let tree: FluxTree;
  let renders: Map<string, ReleaseRender>;
  beforeAll(async () => {
    tree = await loadFluxTree(repoRoot);
    renders = await renderTenantReleases(tree);
  });

  it("render for both tenants and are clean under the validator", async () => {
    expect([...renders.keys()].sort()).toEqual(["bhc", "mhr"]);
    for (const [tenant, render] of renders) {
      expect(render.error, tenant).toBeUndefined();
      expect(render.objects.length, tenant).toBeGreaterThan(10);
      const findings = await validateObjects(render.objects, { committed: false });
      expect(findings.map(formatFinding), tenant).toEqual([]);
    }
  });

  it("wire Orthanc to the tenant's gateway, certificate, database and Prometheus", () => {
    for (const [tenant, render] of renders) {
      const objects = render.objects.map((item) => item.object);
      const find = (kind: string, name?: string): KubeObject => {
        const found = objects.find((o) => o.kind === kind && (!name || o.metadata?.name === name));
        if (!found) throw new Error(`${tenant}: no ${kind} ${name ?? ""}`);
        return found;
      };
      expect(find("Deployment").metadata?.namespace).toBe(tenant);
      expect(find("Gateway").spec).toMatchObject({
        selector: { istio: `${tenant}-ingress` },
        servers: [
          { port: { number: 443, protocol: "HTTPS" }, hosts: [`web.${tenant}.korthweb.test`], tls: { mode: "SIMPLE", credentialName: "orthanc-tls" } },
          { port: { number: 11112, protocol: "TLS" }, hosts: ["*"], tls: { mode: "SIMPLE", credentialName: "orthanc-tls" } },
        ],
      });
      expect(find("Gateway").metadata?.namespace).toBe(`${tenant}-ingress`);
      expect(find("VirtualService", "orthanc-dicom").spec).toMatchObject({ gateways: [`${tenant}-ingress/orthanc`], tcp: [{ route: [{ destination: { host: `orthanc.${tenant}.svc.cluster.local` } }] }] });
      expect(find("NetworkPolicy").spec).toMatchObject({ ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ values: [`${tenant}-ingress`] }] } }] }, { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }] }] });
      // The chart's values make the scrape mTLS with the certificate of Prometheus's sidecar.
      expect(find("ServiceMonitor").spec).toMatchObject({ endpoints: [{ scheme: "https", tlsConfig: { certFile: "/etc/prom-certs/cert-chain.pem", keyFile: "/etc/prom-certs/key.pem" } }] });
      // helm-controller runs no helm test: the chart's test Pod is not rendered.
      expect(objects.filter((o) => o.kind === "Pod")).toEqual([]);
    }
  });

  it("scrape with the certificate files where Prometheus mounts its sidecar's output, set by values alone (no post-renderer)", () => {
    const monitoring = tree.releases.find((release) => release.releaseName === "kube-prometheus-stack");
    const spec = record(record(monitoring?.values.prometheus).prometheusSpec);
    const mounts = (spec.volumeMounts ?? []) as { name: string; mountPath: string }[];
    const certDir = mounts.find((mount) => mount.name === "istio-certs")?.mountPath.replace(/\/$/, "");
    expect(certDir).toBe("/etc/prom-certs");
    for (const [tenant, render] of renders) {
      const release = orthancRelease(tree.tenants.find((t) => t.name === tenant)!)!;
      expect(record(release.object.spec).postRenderers, tenant).toBeUndefined();
      const monitor = render.objects.map((item) => item.object).find((o) => o.kind === "ServiceMonitor") as any;
      const tls = monitor.spec.endpoints[0].tlsConfig;
      for (const key of ["caFile", "certFile", "keyFile"]) expect(tls[key].startsWith(`${certDir}/`), `${tenant} ${key}`).toBe(true);
    }
  });
});

describe("the chart's check Pod, run by hand as docs/gitops.md shows", () => {
  it("verifies through the tenant's own gateway with the CA copied into a ConfigMap, and the tenant's policy lets it out to exactly that gateway", async () => {
    const doc = readFileSync(fromRoot("docs", "gitops.md"), "utf8");
    expect(doc).toContain("--set tests.enabled=true --set tests.caConfigMap=orthanc-gateway-ca");
    const tree = await loadFluxTree(repoRoot);
    for (const tenant of tree.tenants) {
      const release = orthancRelease(tenant)!;
      const render = await renderGitRelease(tree.root, { ...release, values: { ...release.values, tests: { enabled: true, caConfigMap: "orthanc-gateway-ca" } } });
      expect(render.error, tenant.name).toBeUndefined();
      const objects = render.objects.map((item) => item.object) as any[];
      const pod = objects.find((o) => o.kind === "Pod");
      expect(pod.metadata.namespace).toBe(tenant.name);
      expect(pod.spec.containers[0].args).toEqual(expect.arrayContaining([`--address=${tenant.name}-ingress.${tenant.name}-ingress.svc.cluster.local`, "--ca=/opt/korthweb-ca/ca.crt"]));
      expect(pod.spec.containers[0].args).not.toContain("--insecure");
      expect(pod.spec.volumes.find((v: any) => v.name === "ca").configMap.name).toBe("orthanc-gateway-ca");
      const policy = tenant.objects.find((o) => o.kind === "NetworkPolicy" && o.metadata?.name === "orthanc-check") as any;
      expect(policy.metadata.namespace).toBe(tenant.name);
      for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels)) expect(pod.metadata.labels[key], key).toBe(value);
      const [toGateway] = policy.spec.egress;
      expect(toGateway.to).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": `${tenant.name}-ingress` } }, podSelector: { matchLabels: { istio: `${tenant.name}-ingress` } } }]);
      const served = objects.find((o) => o.kind === "Gateway").spec.servers.map((server: any) => server.port.number);
      expect(toGateway.ports.map((port: any) => port.port)).toEqual(served);
    }
  });
});

describe("post-renderers are applied the way helm-controller applies them", () => {
  it("a kustomize patch in spec.postRenderers changes the rendered objects", async () => {
    const checkout = copy();
    checkout.edit(
      "gitops/tenants/base/workload/orthanc.yaml",
      "  upgrade:\n    remediation:\n      retries: 3\n",
      "  upgrade:\n    remediation:\n      retries: 3\n  postRenderers:\n    - kustomize:\n        patches:\n          - target:\n              kind: ServiceMonitor\n            patch: |\n              - op: replace\n                path: /spec/endpoints/0/interval\n                value: 15s\n",
    );
    const tree = await renderFluxTree(checkout.root);
    const render = await renderGitRelease(checkout.root, orthancRelease(tree.tenants[0]!)!);
    expect(render.error).toBeUndefined();
    const monitor = render.objects.map((item) => item.object).find((o) => o.kind === "ServiceMonitor") as any;
    expect(monitor.spec.endpoints[0].interval).toBe("15s");
  });
});

describe("bad tenant values are caught", () => {
  it("a key the chart's schema does not know fails the render", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/orthanc.yaml", "    networkPolicy:\n", "    networkPolicies:\n");
    const tree = await renderFluxTree(checkout.root);
    const render = await renderGitRelease(checkout.root, orthancRelease(tree.tenants[0]!)!);
    expect(render.error).toMatch(/networkPolicies/);
  });

  it("values that render but break policy are reported by the validator", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/orthanc.yaml", "    domain: example.korthweb.test\n", "    domain: example.korthweb.test\n    extraEnv:\n      - name: S3_SECRET_KEY\n        value: hunter2hunter2\n");
    const tree = await renderFluxTree(checkout.root);
    const render = await renderGitRelease(checkout.root, orthancRelease(tree.tenants[0]!)!);
    expect(render.error).toBeUndefined();
    const findings = (await validateObjects(render.objects, { committed: false })).map(formatFinding);
    expect(findings.some((line) => line.includes("S3_SECRET_KEY has a literal secret value"))).toBe(true);
  });
});
