// CRDs generated from the kubernetes-models validators: names and scopes as
// upstream has them, every CRD the install steps wait for, and schemas that
// say what the validator enforces (checked on kinds whose upstream shape we know).
import { describe, expect, it } from "vitest";
import { crdList, generateCrds, kindSchema, pluralOf, schemalessKinds, type GeneratedCrds } from "../../proving-ground/cluster/crds.ts";
import type { JsonSchema } from "../../proving-ground/cluster/schema-probe.ts";
import { traefikCrds } from "../../tasks/helm/03-traefik.ts";
import { loadRegistry, lookupModel } from "../../proving-ground/cluster/model-registry.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";

async function model(apiVersion: string, kind: string) {
  const found = lookupModel(await loadRegistry(), apiVersion, kind);
  if (!found) throw new Error(`no model for ${apiVersion} ${kind}`);
  return found;
}

/** The schema node at a dotted path ("spec.routes[].services[].port"). */
function at(schema: JsonSchema, path: string): JsonSchema {
  let node: JsonSchema | undefined = schema;
  for (const part of path.split(".")) {
    const list = part.endsWith("[]");
    node = node?.properties?.[list ? part.slice(0, -2) : part];
    if (list) node = node?.items;
  }
  if (!node) throw new Error(`no schema at ${path}`);
  return node;
}

describe("CRD names", () => {
  it("follow Kubernetes' plural rules, as upstream's CRDs do", () => {
    expect(pluralOf("IngressRoute")).toBe("ingressroutes");
    expect(pluralOf("Prometheus")).toBe("prometheuses");
    expect(pluralOf("AuthorizationPolicy")).toBe("authorizationpolicies");
    expect(pluralOf("Gateway")).toBe("gateways");
    expect(pluralOf("TLSStore")).toBe("tlsstores");
    expect(pluralOf("ServiceEntry")).toBe("serviceentries");
  });
});

describe("schemas probed from the validators", () => {
  it("IngressRouteTCP: required fields, int-or-string port, enum, bounds", async () => {
    const { schema } = kindSchema(await model("traefik.io/v1alpha1", "IngressRouteTCP"));
    expect(schema.required).toEqual(["spec"]);
    expect(at(schema, "spec").required).toEqual(["routes"]);
    expect(at(schema, "spec.routes[]").required).toEqual(["match"]);
    expect(at(schema, "spec.routes[].services[]").required).toEqual(["name", "port"]);
    expect(at(schema, "spec.routes[].services[].port")).toEqual({ "x-kubernetes-int-or-string": true });
    expect(at(schema, "spec.routes[].syntax").enum).toEqual(expect.arrayContaining(["v2", "v3"]));
    expect(at(schema, "spec.routes[].services[].proxyProtocol.version")).toMatchObject({ type: "integer", minimum: 1, maximum: 2 });
    expect(at(schema, "spec.tls.passthrough")).toEqual({ type: "boolean" });
    expect(at(schema, "metadata")).toEqual({ type: "object" });
  });

  it("maps keep their value type, free-form values stay free-form", async () => {
    const certificate = kindSchema(await model("cert-manager.io/v1", "Certificate")).schema;
    expect(at(certificate, "spec.secretTemplate.labels")).toEqual({ type: "object", additionalProperties: { type: "string" } });
    const release = kindSchema(await model("helm.toolkit.fluxcd.io/v2", "HelmRelease")).schema;
    // Any JSON value passes the validator there; upstream says the same (preserve-unknown-fields, no type).
    expect(at(release, "spec.values")).toEqual({ "x-kubernetes-preserve-unknown-fields": true });
    expect(at(release, "spec.valuesFrom[].kind").enum).toEqual(expect.arrayContaining(["ConfigMap", "Secret"]));
    expect(at(release, "spec.valuesFrom[].name")).toEqual({ type: "string", minLength: 1, maxLength: 253 });
    const repository = kindSchema(await model("source.toolkit.fluxcd.io/v1", "GitRepository")).schema;
    expect(at(repository, "spec.url")).toEqual({ type: "string", pattern: "^(http|https|ssh)://.*$" });
  });
});

describe("the generated CRD set", () => {
  let generated: GeneratedCrds;
  const byName = () => new Map(generated.crds.map((crd) => [String(crd.metadata?.name), crd]));
  const spec = (crd: KubeObject | undefined) => crd?.spec as { scope: string; versions: { name: string; storage: boolean; subresources?: unknown }[] };

  it("covers every custom kind the validator serves, plus the schemaless Kiali", async () => {
    generated = await generateCrds();
    const names = byName();
    for (const name of [...traefikCrds, "certificates.cert-manager.io", "clusterissuers.cert-manager.io", "gateways.networking.istio.io", "virtualservices.networking.istio.io", "peerauthentications.security.istio.io", "authorizationpolicies.security.istio.io", "helmreleases.helm.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io", "gitrepositories.source.toolkit.fluxcd.io", "ocirepositories.source.toolkit.fluxcd.io", "servicemonitors.monitoring.coreos.com", "podmonitors.monitoring.coreos.com", "kialis.kiali.io"]) {
      expect(names.has(name), name).toBe(true);
    }
    expect(schemalessKinds).toEqual(["kiali.io/v1alpha1 Kiali"]);
    expect(generated.kinds.every((kind) => kind.report.truncated.length === 0)).toBe(true);
  }, 120_000); // probes ~18 000 schema nodes: about 10 s, more on a busy machine

  it("scopes, versions and status subresources as upstream", () => {
    const names = byName();
    expect(spec(names.get("clusterissuers.cert-manager.io")).scope).toBe("Cluster");
    expect(spec(names.get("issuers.cert-manager.io")).scope).toBe("Namespaced");
    const vs = spec(names.get("virtualservices.networking.istio.io"));
    expect(vs.versions.map((version) => [version.name, version.storage])).toEqual([["v1", true]]);
    expect(spec(names.get("certificates.cert-manager.io")).versions[0]?.subresources).toEqual({ status: {} });
  });

  it("is written as one JSON List (no YAML 1.1/1.2 ambiguity in enum values such as '=')", () => {
    const parsed = JSON.parse(crdList(generated.crds)) as { kind: string; items: unknown[] };
    expect(parsed.kind).toBe("List");
    expect(parsed.items).toHaveLength(generated.crds.length);
  });
});
