// The NetworkPolicy evaluator on small hand-made cases: both sides must
// allow, selectors and namespace selectors, ipBlocks, port ranges, and what
// it refuses to guess.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { connectionAllowed, networkFlows, type Pod } from "../../proving-ground/checks/network-policy.ts";

const pod = (name: string, namespace: string, labels: Record<string, string> = {}, ports: number[] = []): Pod => ({ name, namespace, labels, ports });
const policy = (namespace: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "p", namespace }, spec });

const web = pod("a/web", "a", { app: "web" }, [80]);
const db = pod("a/db", "a", { app: "db" }, [5432]);
const stranger = pod("b/x", "b", { app: "web" });

describe("connectionAllowed", () => {
  it("allows everything without policies, and the outside world only where ingress allows", () => {
    expect(connectionAllowed([], stranger, db, 5432)).toBe(true);
    expect(connectionAllowed([policy("a", { podSelector: {}, policyTypes: ["Ingress"] })], "outside", web, 80)).toBe(false);
  });

  it("needs both the destination's ingress and the source's egress", () => {
    const ingress = policy("a", { podSelector: { matchLabels: { app: "db" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] }] });
    const denyEgress = policy("a", { podSelector: {}, policyTypes: ["Egress"] });
    expect(connectionAllowed([ingress], web, db, 5432)).toBe(true);
    expect(connectionAllowed([ingress, denyEgress], web, db, 5432)).toBe(false);
    // A pod selector alone means the policy's own namespace: b's web pod is not admitted.
    expect(connectionAllowed([ingress], stranger, db, 5432)).toBe(false);
    expect(connectionAllowed([ingress], web, db, 5433)).toBe(false);
  });

  it("matches namespace selectors (with the kubernetes.io/metadata.name label), expressions, ipBlocks and port ranges", () => {
    const fromB = policy("a", { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["b"] }] } }], ports: [{ port: 5000, endPort: 6000 }] }] });
    expect(connectionAllowed([fromB], stranger, db, 5432)).toBe(true);
    expect(connectionAllowed([fromB], web, db, 5432)).toBe(false);
    const fromInternet = policy("a", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] });
    expect(connectionAllowed([fromInternet], "outside", web, 80)).toBe(true);
    expect(connectionAllowed([fromInternet], stranger, web, 80)).toBe(false);
    // UDP rules do not admit TCP.
    expect(connectionAllowed([policy("a", { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: "UDP" }] }] })], stranger, web, 80)).toBe(false);
  });

  it("refuses what it does not model", () => {
    expect(() => connectionAllowed([policy("a", { podSelector: {}, ingress: [{ ports: [{ port: "http" }] }] })], stranger, web, 80)).toThrow(/named port http is not modelled/);
    expect(() => connectionAllowed([policy("a", { podSelector: { matchExpressions: [{ key: "x", operator: "Gt" }] } })], stranger, web, 80)).toThrow(/operator Gt/);
  });
});

describe("networkFlows", () => {
  it("lists each allowed client per destination port, and * when every client may", () => {
    const ingress = policy("a", { podSelector: { matchLabels: { app: "db" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] }] });
    // web has no policy: open on its own port and on every port a policy of its namespace names.
    expect(networkFlows([ingress], [web, db, stranger])).toEqual(["* -> a/web:80", "* -> a/web:5432", "a/web -> a/db:5432"]);
  });
});
