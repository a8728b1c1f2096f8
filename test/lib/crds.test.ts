import { describe, expect, it } from "vitest";
import { crdNameOf, crdsOf } from "../../tasks/lib/crds.ts";

describe("crdNameOf", () => {
  it.each([
    ["networking.istio.io/v1", "Gateway", "gateways.networking.istio.io"],
    ["networking.istio.io/v1", "VirtualService", "virtualservices.networking.istio.io"],
    ["security.istio.io/v1", "AuthorizationPolicy", "authorizationpolicies.security.istio.io"],
    ["security.istio.io/v1", "PeerAuthentication", "peerauthentications.security.istio.io"],
    ["traefik.io/v1alpha1", "IngressRouteTCP", "ingressroutetcps.traefik.io"],
    ["traefik.io/v1alpha1", "TLSOption", "tlsoptions.traefik.io"],
    ["cert-manager.io/v1", "ClusterIssuer", "clusterissuers.cert-manager.io"],
    ["monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors.monitoring.coreos.com"],
    ["source.toolkit.fluxcd.io/v1", "GitRepository", "gitrepositories.source.toolkit.fluxcd.io"],
    ["kustomize.toolkit.fluxcd.io/v1", "Kustomization", "kustomizations.kustomize.toolkit.fluxcd.io"],
    ["helm.toolkit.fluxcd.io/v2", "HelmRelease", "helmreleases.helm.toolkit.fluxcd.io"],
    ["kiali.io/v1alpha1", "Kiali", "kialis.kiali.io"],
  ])("%s %s → %s", (apiVersion, kind, name) => {
    expect(crdNameOf(apiVersion, kind)).toBe(name);
  });

  it("needs none for built-in kinds", () => {
    for (const [apiVersion, kind] of [["v1", "Secret"], ["apps/v1", "Deployment"], ["networking.k8s.io/v1", "NetworkPolicy"], ["policy/v1", "PodDisruptionBudget"], ["autoscaling/v2", "HorizontalPodAutoscaler"]]) {
      expect(crdNameOf(apiVersion!, kind!)).toBeUndefined();
    }
  });

  it("lists the CRDs of a manifest set once each", () => {
    const objects = [
      { apiVersion: "networking.istio.io/v1", kind: "VirtualService" },
      { apiVersion: "networking.istio.io/v1", kind: "VirtualService" },
      { apiVersion: "v1", kind: "Service" },
      { apiVersion: "networking.istio.io/v1", kind: "Gateway" },
    ];
    expect(crdsOf(objects)).toEqual(["gateways.networking.istio.io", "virtualservices.networking.istio.io"]);
  });
});
