// mTLS and authorization as committed: STRICT everywhere, and the policies
// allow exactly the intended flows — computed from the YAML the way Istio
// evaluates it, for every caller (each mesh identity and the outside world)
// and every port in play.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { allowedFlows, allowedRequests, authorizationPolicies, matchesValue, outsideWorld } from "../../proving-ground/checks/manual/flows.ts";
import { files, namespaces, releases } from "../../tasks/manual/layout.ts";
import { istioGatewayIdentity, prometheusIdentity } from "../../proving-ground/checks/chart-identities.ts";
import { principal } from "../../proving-ground/checks/istio-authorization.ts";
import { intendedFlows, meshWorkloads } from "../../proving-ground/checks/manual/mesh.ts";
import { allObjects, copy, named, ofKind, values } from "./manual-files.ts";

const objects = allObjects();
const policies = authorizationPolicies(readFileSync(files.authorizationPolicies, "utf8"), files.authorizationPolicies);
const sorted = (list: readonly string[]) => [...list].sort();

describe("authorization policies", () => {
  it("allow exactly the intended flows", () => {
    expect(sorted(allowedFlows(policies))).toEqual(sorted(intendedFlows));
  });

  it("deny by default in every namespace with a proxy that receives traffic", () => {
    const receiving = new Set(Object.values(meshWorkloads).filter((w) => w.ports.length > 0).map((w) => w.namespace));
    for (const namespace of receiving) {
      const allowNothing = policies.find((p) => p.metadata?.namespace === namespace && JSON.stringify(p.spec) === "{}");
      expect(allowNothing, `allow-nothing policy in ${namespace}`).toBeDefined();
    }
  });

  it("name principals by service account only (no namespace-wide or wildcard sources)", () => {
    for (const policy of policies) {
      for (const rule of ((policy.spec as any)?.rules ?? []) as any[]) {
        for (const from of rule.from ?? []) {
          expect(Object.keys(from.source)).toEqual(["principals"]);
          for (const p of from.source.principals) expect(p).toMatch(/^cluster\.local\/ns\/[a-z0-9-]+\/sa\/[a-z0-9-]+$/);
        }
      }
    }
  });

  it("change their verdict when a copy is broken (the check can fail)", () => {
    const flowsOf = (change: (items: any[]) => void) => {
      const items = copy(policies) as any[];
      change(items);
      return sorted(allowedFlows(items));
    };
    const policy = (items: any[], name: string) => items.find((p) => p.metadata.name === name);
    // Without its source, PostgreSQL is open to every caller.
    expect(flowsOf((items) => delete policy(items, "postgresql-from-orthanc").spec.rules[0].from)).toContain("* -> postgresql:5432");
    // Without the path, Prometheus may call the whole REST API.
    expect(flowsOf((items) => delete policy(items, "orthanc-metrics-from-prometheus").spec.rules[0].to[0].operation.paths)).toContain("prometheus -> orthanc:8042 GET");
    // Without allow-nothing in orthanc and with no ALLOW for PostgreSQL, it is open.
    expect(flowsOf((items) => items.splice(items.findIndex((p) => p.metadata.name === "postgresql-from-orthanc"), 1))).not.toContain("orthanc -> postgresql:5432");
    const open = flowsOf((items) => {
      items.splice(items.findIndex((p) => p.metadata.name === "postgresql-from-orthanc"), 1);
      items.splice(items.findIndex((p) => p.metadata.name === "allow-nothing" && p.metadata.namespace === "orthanc"), 1);
    });
    expect(open).toContain("* -> postgresql:5432");
    // A typo in a principal closes the flow.
    expect(flowsOf((items) => (policy(items, "orthanc-from-gateway").spec.rules[0].from[0].source.principals = ["cluster.local/ns/istio-ingress/sa/istio-ingressgateway"]))).not.toContain("istio-ingress -> orthanc:8042");
    // An extra port shows up.
    expect(flowsOf((items) => policy(items, "gateway-public-ports").spec.rules[0].to[0].operation.ports.push("80"))).toContain("* -> istio-ingress:80");
  });

  it("refuses policy features it does not model rather than guess", () => {
    const withWhen = copy(policies) as any[];
    withWhen.find((p) => p.metadata.name === "orthanc-from-gateway").spec.rules[0].when = [{ key: "request.headers[x]", values: ["1"] }];
    expect(() => allowedFlows(withWhen)).toThrow(/rules\[\]\.when is not modelled/);
    const custom = copy(policies) as any[];
    custom.push({ kind: "AuthorizationPolicy", metadata: { name: "ext", namespace: "orthanc" }, spec: { action: "CUSTOM", provider: { name: "x" }, rules: [{}] } });
    expect(() => allowedFlows(custom)).toThrow(/not modelled/);
  });
});

describe("the flow evaluator", () => {
  const orthanc = meshWorkloads.orthanc;
  it("matches Istio's string forms", () => {
    expect(matchesValue("*", "a")).toBe(true);
    expect(matchesValue("cluster.local/ns/orthanc/*", "cluster.local/ns/orthanc/sa/x")).toBe(true);
    expect(matchesValue("*/sa/x", "cluster.local/ns/orthanc/sa/x")).toBe(true);
    expect(matchesValue("a", "b")).toBe(false);
    expect(matchesValue("*", undefined)).toBe(false);
  });

  it("lets DENY win, applies root-namespace policies mesh-wide, and allows everything without ALLOW policies", () => {
    const gatewayCaller = { name: "gw", principal: principal(meshWorkloads.gateway), namespace: "istio-ingress" };
    expect(allowedRequests([], orthanc, outsideWorld, 8042)).toEqual([""]);
    const deny: KubeObject = { kind: "AuthorizationPolicy", metadata: { name: "d", namespace: namespaces.istio }, spec: { action: "DENY", rules: [{ to: [{ operation: { ports: ["8042"] } }] }] } };
    expect(allowedRequests([...policies, deny], orthanc, gatewayCaller, 8042)).toEqual([]);
    expect(allowedRequests([...policies, deny], orthanc, gatewayCaller, 4242)).toEqual([""]);
    expect(allowedRequests(policies, orthanc, outsideWorld, 8042)).toEqual([]);
  });
});

describe("mutual TLS", () => {
  it("is STRICT mesh-wide, from one PeerAuthentication in the root namespace, with no exception", () => {
    const all = ofKind(objects, "PeerAuthentication") as any[];
    expect(all).toHaveLength(1);
    expect(all[0].metadata).toMatchObject({ name: "default", namespace: namespaces.istio });
    expect(all[0].spec).toEqual({ mtls: { mode: "STRICT" } });
  });
});

describe("the identities the policies name are the ones the workloads get", () => {
  it("Orthanc: service account and pod labels of the rendered Deployment, ports of its containers", () => {
    const deployment = named(objects, "Deployment", "orthanc", namespaces.app);
    expect(deployment.spec.template.spec.serviceAccountName).toBe(meshWorkloads.orthanc.serviceAccount);
    expect(deployment.spec.template.metadata.labels).toMatchObject(meshWorkloads.orthanc.labels);
    expect(deployment.spec.template.spec.containers[0].ports.map((p: any) => p.containerPort)).toEqual(meshWorkloads.orthanc.ports);
  });

  it("PostgreSQL: the service account named in its values, the labels the chart's NetworkPolicy also selects", () => {
    expect(values(files.postgresqlValues).serviceAccount.name).toBe(meshWorkloads.postgresql.serviceAccount);
    const policy = named(objects, "NetworkPolicy", "orthanc", namespaces.app);
    const dbSelector = policy.spec.egress.find((e: any) => e.ports.some((p: any) => p.port === 5432)).to[0].podSelector.matchLabels;
    expect(meshWorkloads.postgresql.labels).toMatchObject(dbSelector);
    expect(dbSelector["app.kubernetes.io/instance"]).toBe(releases.postgresql.release);
  });

  it("Prometheus and the gateway: service accounts named in their chart values", () => {
    expect(values(files.kubePrometheusStackValues).prometheus.serviceAccount.name).toBe(meshWorkloads.prometheus.serviceAccount);
    expect(values(files.gatewayValues).serviceAccount.name).toBe(meshWorkloads.gateway.serviceAccount);
    expect(meshWorkloads.prometheus.namespace).toBe(releases.kubePrometheusStack.namespace);
    expect(meshWorkloads.gateway.namespace).toBe(releases.gateway.namespace);
  });
});

describe("the identities are the ones the upstream charts create for our values and release names", () => {
  it("Prometheus: kube-prometheus-stack's service account for release kube-prometheus-stack with our values", () => {
    const identity = prometheusIdentity(releases.kubePrometheusStack.release, values(files.kubePrometheusStackValues));
    expect(identity.serviceAccount).toBe(meshWorkloads.prometheus.serviceAccount);
    expect(policies.find((p) => p.metadata?.name === "orthanc-metrics-from-prometheus")?.spec).toMatchObject({
      rules: [{ from: [{ source: { principals: [principal(meshWorkloads.prometheus)] } }] }],
    });
  });

  it("the gateway: Istio's gateway chart's service account and pod labels for release istio-ingress with our values", () => {
    const identity = istioGatewayIdentity(releases.gateway.release, values(files.gatewayValues));
    expect(identity.serviceAccount).toBe(meshWorkloads.gateway.serviceAccount);
    expect(meshWorkloads.gateway.labels).toEqual(identity.labels);
    expect(policies.find((p) => p.metadata?.name === "orthanc-from-gateway")?.spec).toMatchObject({
      rules: [{ from: [{ source: { principals: [principal(meshWorkloads.gateway)] } }] }],
    });
  });
});

describe("sidecar injection", () => {
  const namespaceLabels = (name: string) => (named(objects, "Namespace", name).metadata.labels ?? {}) as Record<string, string>;

  it("is on in the application namespace, so Orthanc and PostgreSQL get a proxy (and with it mTLS and the policies)", () => {
    for (const workload of [meshWorkloads.orthanc, meshWorkloads.postgresql]) expect(namespaceLabels(workload.namespace)["istio-injection"]).toBe("enabled");
    const orthanc = named(objects, "Deployment", "orthanc", namespaces.app).spec.template.metadata;
    expect({ ...orthanc.labels, ...orthanc.annotations }["sidecar.istio.io/inject"]).not.toBe("false");
  });

  it("is disabled in no namespace a mesh workload runs in (a namespace label disabled wins over the pod's)", () => {
    for (const workload of Object.values(meshWorkloads)) {
      const labels = objects.some((o) => o.kind === "Namespace" && o.metadata?.name === workload.namespace) ? namespaceLabels(workload.namespace) : {};
      expect(labels["istio-injection"], workload.namespace).not.toBe("disabled");
    }
  });
});
