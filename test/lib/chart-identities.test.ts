// The upstream charts' naming rules the policies depend on, for the cases our
// values use and the overrides that would change a principal.
import { describe, expect, it } from "vitest";
import { bitnamiPostgresqlIdentity, istioGatewayIdentity, prometheusIdentity } from "../../proving-ground/checks/chart-identities.ts";

describe("istioGatewayIdentity", () => {
  it("names the service account and pods after the release, istio= without the istio- prefix", () => {
    expect(istioGatewayIdentity("bhc-ingress", {})).toEqual({ serviceAccount: "bhc-ingress", labels: { app: "bhc-ingress", istio: "bhc-ingress" } });
    expect(istioGatewayIdentity("istio-ingress", {}).labels.istio).toBe("ingress");
  });
  it("follows name, labels and serviceAccount values", () => {
    expect(istioGatewayIdentity("r", { name: "gw", labels: { istio: "edge" }, serviceAccount: { name: "sa" } })).toEqual({ serviceAccount: "sa", labels: { app: "gw", istio: "edge" } });
    expect(istioGatewayIdentity("r", { serviceAccount: { create: false } }).serviceAccount).toBe("default");
  });
});

describe("prometheusIdentity", () => {
  it("is <fullname>-prometheus, fullname being the release when it contains the chart name", () => {
    expect(prometheusIdentity("kube-prometheus-stack", {}).serviceAccount).toBe("kube-prometheus-stack-prometheus");
    expect(prometheusIdentity("monitoring", {}).serviceAccount).toBe("monitoring-kube-prometheus-prometheus");
    expect(prometheusIdentity("x", { fullnameOverride: "kps" }).serviceAccount).toBe("kps-prometheus");
  });
  it("takes prometheus.serviceAccount.name, and default when the chart creates none", () => {
    expect(prometheusIdentity("kube-prometheus-stack", { prometheus: { serviceAccount: { name: "prometheus" } } }).serviceAccount).toBe("prometheus");
    expect(prometheusIdentity("kube-prometheus-stack", { prometheus: { serviceAccount: { create: false } } }).serviceAccount).toBe("default");
  });
});

describe("bitnamiPostgresqlIdentity", () => {
  it("is the fullname, <release>-postgresql unless the release contains it, with the primary's labels", () => {
    expect(bitnamiPostgresqlIdentity("orthanc-db", {})).toEqual({
      serviceAccount: "orthanc-db-postgresql",
      labels: { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "orthanc-db", "app.kubernetes.io/component": "primary" },
    });
    expect(bitnamiPostgresqlIdentity("my-postgresql", {}).serviceAccount).toBe("my-postgresql");
    expect(bitnamiPostgresqlIdentity("orthanc-db", { serviceAccount: { name: "db" } }).serviceAccount).toBe("db");
  });
});
