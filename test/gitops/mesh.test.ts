// The tenants' mesh security as rendered: sidecar injection, STRICT mTLS
// mesh-wide, deny by default, and exactly the intended flows under both the
// AuthorizationPolicies (evaluated as Istio does) and the NetworkPolicies
// (evaluated as Kubernetes does) — on the real tree and on copies broken on
// purpose, each of which the check must catch.
import { beforeAll, describe, expect, it } from "vitest";
import { formatProblem } from "../../proving-ground/checks/gitops/checks.ts";
import { checkMesh } from "../../proving-ground/checks/gitops/mesh-check.ts";
import { gitopsMesh, intendedFlows, intendedNetworkFlows, type GitopsMesh } from "../../proving-ground/checks/gitops/mesh.ts";
import { renderTenantReleases } from "../../proving-ground/checks/gitops/release-render.ts";
import { loadFluxTree, renderFluxTree, type FluxTree } from "../../tasks/gitops/tree.ts";
import { principal } from "../../proving-ground/checks/istio-authorization.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();

async function rendersOf(tree: FluxTree): Promise<Map<string, KubeObject[]>> {
  return new Map([...(await renderTenantReleases(tree))].map(([tenant, render]) => [tenant, render.objects.map((item) => item.object)]));
}

async function meshProblems(root: string): Promise<string[]> {
  const tree = await renderFluxTree(root);
  return checkMesh(tree, await rendersOf(tree)).map(formatProblem);
}

/** A kustomize JSON patch on one object, for a tenant's workload folder (that tenant only). */
const jsonPatch = (kind: string, name: string, ops: string) =>
  `patches:\n  - target:\n      kind: ${kind}\n      name: ${name}\n    patch: |\n${ops.split("\n").map((line) => `      ${line}`).join("\n")}\n`;
const bhcWorkload = "gitops/tenants/bhc/workload/kustomization.yaml";

describe("the tenants' mesh in the repository", () => {
  let tree: FluxTree;
  let renders: Map<string, KubeObject[]>;
  let mesh: GitopsMesh;
  beforeAll(async () => {
    tree = await loadFluxTree(repoRoot);
    renders = await rendersOf(tree);
    mesh = gitopsMesh(tree, renders);
  });

  it("passes every mesh check", () => {
    expect(checkMesh(tree, renders).map(formatProblem)).toEqual([]);
  });

  it("allows exactly each tenant's own chain under Istio: its gateway → its Orthanc, its Orthanc → its PostgreSQL, Prometheus → metrics", () => {
    expect(intendedFlows(mesh)).toEqual([
      "* -> bhc/gateway:443",
      "* -> bhc/gateway:11112",
      "bhc/gateway -> bhc/orthanc:8042",
      "bhc/gateway -> bhc/orthanc:4242",
      "prometheus -> bhc/orthanc:8042 GET /tools/metrics-prometheus",
      "bhc/orthanc -> bhc/postgresql:5432",
      "* -> mhr/gateway:443",
      "* -> mhr/gateway:11112",
      "mhr/gateway -> mhr/orthanc:8042",
      "mhr/gateway -> mhr/orthanc:4242",
      "prometheus -> mhr/orthanc:8042 GET /tools/metrics-prometheus",
      "mhr/orthanc -> mhr/postgresql:5432",
    ]);
  });

  it("lets through the same chain at the network level, plus Prometheus on the proxies' stats ports and the gateway's readiness port", () => {
    const bhc = intendedNetworkFlows(mesh).filter((flow) => flow.includes("bhc"));
    expect(bhc).toEqual(expect.arrayContaining(["outside -> bhc/gateway:443", "bhc/gateway -> bhc/orthanc:4242", "bhc/orthanc -> bhc/postgresql:5432", "prometheus -> bhc/postgresql:15090"]));
    expect(bhc.filter((flow) => flow.startsWith("outside"))).toEqual(["outside -> bhc/gateway:443", "outside -> bhc/gateway:11112", "outside -> bhc/gateway:15021"]);
    expect(intendedNetworkFlows(mesh).filter((flow) => /(bhc.*mhr|mhr.*bhc)/.test(flow))).toEqual([]);
  });

  it("models each identity from what the charts create for our values, and the policies name those identities", () => {
    const [bhc] = mesh.tenants;
    // Istio's gateway chart names the service account after the release.
    expect(bhc!.gateway).toMatchObject({ namespace: "bhc-ingress", serviceAccount: "bhc-ingress", labels: { istio: "bhc-ingress" } });
    // The orthanc chart's rendered Deployment.
    expect(bhc!.orthanc).toMatchObject({ namespace: "bhc", serviceAccount: "orthanc", ports: [8042, 4242] });
    // kube-prometheus-stack's <fullname>-prometheus for release kube-prometheus-stack.
    expect(mesh.prometheus).toMatchObject({ namespace: "monitoring", serviceAccount: "kube-prometheus-stack-prometheus" });
    const sources = (name: string, namespace: string) =>
      ((tree.objects.find((o) => o.kind === "AuthorizationPolicy" && o.metadata?.name === name && o.metadata?.namespace === namespace)?.spec as any).rules as any[]).flatMap((rule) =>
        rule.from.map((from: any) => from.source),
      );
    expect(sources("orthanc-from-gateway", "bhc")).toEqual([{ principals: [principal(bhc!.gateway)] }]);
    expect(sources("orthanc-metrics", "bhc")).toEqual([{ principals: [principal(mesh.prometheus!)] }]);
    expect(sources("postgresql-from-orthanc", "bhc")).toEqual([{ principals: [principal(bhc!.orthanc)] }]);
  });
});

describe("the mesh check on broken copies", () => {
  it("reports a deleted policy, a namespace-wide source and the other tenant's gateway allowed", async () => {
    const checkout = copy();
    // Tenant mhr loses its PostgreSQL allow (base: both tenants would; a tenant folder patch keeps it to one).
    checkout.edit("gitops/tenants/mhr/workload/kustomization.yaml", "resources:\n", `${jsonPatch("AuthorizationPolicy", "postgresql-from-orthanc", "- op: remove\n  path: /spec/rules/0")}resources:\n`);
    // Tenant bhc: any workload of its namespace may reach PostgreSQL; mhr's gateway may reach bhc's Orthanc.
    checkout.edit(
      bhcWorkload,
      "resources:\n",
      `${jsonPatch("AuthorizationPolicy", "postgresql-from-orthanc", "- op: add\n  path: /spec/rules/0/from/-\n  value: {source: {namespaces: [bhc]}}")}` +
        `  - target:\n      kind: AuthorizationPolicy\n      name: orthanc-from-gateway\n    patch: |\n      - op: add\n        path: /spec/rules/0/from/0/source/principals/-\n        value: cluster.local/ns/mhr-ingress/sa/mhr-ingress\nresources:\n`,
    );
    const problems = await meshProblems(checkout.root);
    expect(problems).toContain("[mesh] AuthorizationPolicies: do not allow mhr/orthanc -> mhr/postgresql:5432, which is needed");
    expect(problems).toContain("[mesh] AuthorizationPolicies: allow bhc/other -> bhc/postgresql:5432, which is not an intended flow");
    expect(problems).toContain("[mesh] AuthorizationPolicies: allow mhr/gateway -> bhc/orthanc:8042, which is not an intended flow");
    expect(problems).toContain("[mesh] AuthorizationPolicies: allow mhr/gateway -> bhc/orthanc:4242, which is not an intended flow");
    // bhc's own chain is still intact, mhr's other flows too.
    expect(problems.filter((p) => p.includes("which is needed"))).toEqual(["[mesh] AuthorizationPolicies: do not allow mhr/orthanc -> mhr/postgresql:5432, which is needed"]);
  });

  it("reports a deleted policy in the base for both tenants", async () => {
    const checkout = copy();
    const text = checkout.read("gitops/tenants/base/workload/authorization.yaml");
    const start = text.indexOf("# Web (8042) and DICOM (4242)");
    checkout.write("gitops/tenants/base/workload/authorization.yaml", text.slice(0, start) + text.slice(text.indexOf("---", start) + 4));
    expect(await meshProblems(checkout.root)).toEqual(
      ["bhc", "mhr"].flatMap((t) => [8042, 4242].map((port) => `[mesh] AuthorizationPolicies: do not allow ${t}/gateway -> ${t}/orthanc:${port}, which is needed`)),
    );
  });

  it("reports mTLS that is not STRICT, a namespace without injection, and missing deny-by-default policies", async () => {
    const checkout = copy();
    checkout.edit("gitops/infrastructure/configs/mesh-mtls.yaml", "mode: STRICT", "mode: PERMISSIVE");
    checkout.edit("gitops/tenants/base/onboarding/namespaces.yaml", "    istio-injection: enabled\n", "");
    checkout.edit(bhcWorkload, "resources:\n", `${jsonPatch("AuthorizationPolicy", "allow-nothing", "- op: add\n  path: /spec/selector\n  value: {matchLabels: {app: something}}")}resources:\n`);
    checkout.edit(
      "gitops/tenants/mhr/workload/kustomization.yaml",
      "resources:\n",
      `${jsonPatch("NetworkPolicy", "default-deny", "- op: replace\n  path: /spec/policyTypes\n  value: [Ingress]")}resources:\n`,
    );
    const problems = await meshProblems(checkout.root);
    expect(problems).toContain("[mesh] PeerAuthentication istio-system/default: mTLS mode PERMISSIVE: plain-text traffic would reach sidecars");
    for (const tenant of ["bhc", "mhr"]) {
      expect(problems).toContain(`[mesh] tenant ${tenant}: namespace ${tenant} is not labelled for sidecar injection (istio-injection=enabled): Orthanc and PostgreSQL would run without a proxy`);
    }
    expect(problems).toContain("[mesh] tenant bhc: no allow-nothing AuthorizationPolicy (ALLOW, no selector, no rule) in bhc: a workload no other policy selects would accept anyone");
    expect(problems).toContain("[mesh] tenant bhc: no allow-nothing AuthorizationPolicy (ALLOW, no selector, no rule) in bhc-ingress: a workload no other policy selects would accept anyone");
    expect(problems).toContain("[mesh] tenant mhr: no default-deny NetworkPolicy (every pod, Ingress and Egress, no rule) in mhr");
    // Without egress denied by default, any pod of mhr may reach what admits it: the gateway's listeners.
    expect(problems).toContain("[mesh] NetworkPolicies: allow mhr/other -> mhr/gateway:443, which is not an intended flow");
  });

  it("reports a NetworkPolicy opened to every namespace", async () => {
    const checkout = copy();
    checkout.edit(bhcWorkload, "resources:\n", `${jsonPatch("NetworkPolicy", "postgresql", "- op: replace\n  path: /spec/ingress/0/from\n  value: [{namespaceSelector: {}}]")}resources:\n`);
    const problems = await meshProblems(checkout.root);
    expect(problems).toContain("[mesh] NetworkPolicies: allow prometheus -> bhc/postgresql:5432, which is not an intended flow");
    expect(problems.filter((p) => p.includes("mhr"))).toEqual([]);
  });

  it("reports a policy feature the evaluator does not model instead of guessing", async () => {
    const checkout = copy();
    checkout.edit(bhcWorkload, "resources:\n", `${jsonPatch("AuthorizationPolicy", "orthanc-metrics", "- op: add\n  path: /spec/rules/0/when\n  value: [{key: \"request.headers[x]\", values: [\"1\"]}]")}resources:\n`);
    expect(await meshProblems(checkout.root)).toContain(
      "[mesh] AuthorizationPolicies: AuthorizationPolicy bhc/orthanc-metrics: rules[].when is not modelled by proving-ground/checks/istio-authorization.ts",
    );
  });
});
