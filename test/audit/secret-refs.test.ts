import { describe, expect, it } from "vitest";
import { createdSecrets, existingSecretsInValues, secretReferences } from "../../proving-ground/audit/secret-refs.ts";

const names = (object: Record<string, unknown>) => secretReferences(object).map((ref) => `${ref.namespace}/${ref.name}`);

describe("secretReferences", () => {
  it("reads pod specs: env, envFrom, volumes, projected volumes, image pull secrets; skips optional ones", () => {
    const deployment = {
      kind: "Deployment",
      metadata: { name: "app", namespace: "ns" },
      spec: {
        template: {
          spec: {
            imagePullSecrets: [{ name: "pull" }],
            initContainers: [{ name: "init", envFrom: [{ secretRef: { name: "init-env" } }] }],
            containers: [
              {
                name: "app",
                env: [
                  { name: "A", valueFrom: { secretKeyRef: { name: "env-a", key: "k" } } },
                  { name: "B", valueFrom: { secretKeyRef: { name: "maybe", key: "k", optional: true } } },
                  { name: "C", value: "literal" },
                ],
              },
            ],
            volumes: [
              { name: "tls", secret: { secretName: "tls" } },
              { name: "all", projected: { sources: [{ secret: { name: "projected" } }, { configMap: { name: "cm" } }] } },
            ],
          },
        },
      },
    };
    expect(names(deployment).sort()).toEqual(["ns/env-a", "ns/init-env", "ns/projected", "ns/pull", "ns/tls"]);
  });

  it("reads custom resources of every ingress, certificate and GitOps kind we use", () => {
    expect(names({ kind: "Gateway", metadata: { name: "g", namespace: "gw" }, spec: { servers: [{ port: { number: 443 }, tls: { credentialName: "cert" } }] } })).toEqual(["gw/cert"]);
    expect(names({ kind: "IngressRouteTCP", metadata: { name: "r", namespace: "o" }, spec: { tls: { secretName: "t" } } })).toEqual(["o/t"]);
    expect(names({ kind: "TLSStore", metadata: { name: "default", namespace: "o" }, spec: { defaultCertificate: { secretName: "d" } } })).toEqual(["o/d"]);
    expect(names({ kind: "ClusterIssuer", metadata: { name: "ca" }, spec: { ca: { secretName: "root" } } })).toEqual(["cert-manager/root"]);
    expect(names({ kind: "ServiceMonitor", metadata: { name: "m", namespace: "o" }, spec: { endpoints: [{ basicAuth: { username: { name: "u" }, password: { name: "p" } } }] } })).toEqual(["o/u", "o/p"]);
    expect(names({ kind: "GitRepository", metadata: { name: "g", namespace: "flux-system" }, spec: { secretRef: { name: "deploy-key" } } })).toEqual(["flux-system/deploy-key"]);
    const release = { kind: "HelmRelease", metadata: { name: "db", namespace: "t" }, spec: { targetNamespace: "data", valuesFrom: [{ kind: "Secret", name: "vals" }], values: { auth: { existingSecret: "db" } } } };
    expect(names(release)).toEqual(["t/vals", "data/db"]);
  });

  it("finds existingSecret keys at any depth of chart values", () => {
    expect(existingSecretsInValues({ grafana: { admin: { existingSecret: "g" } }, list: [{ existingSecret: "l" }], existingSecret: "" }, "ns")).toEqual([
      { namespace: "ns", name: "g", by: "values.grafana.admin.existingSecret" },
      { namespace: "ns", name: "l", by: "values.list[0].existingSecret" },
    ]);
  });
});

describe("createdSecrets", () => {
  it("counts Secret objects and cert-manager Certificates", () => {
    const created = createdSecrets([
      { kind: "Secret", metadata: { name: "s", namespace: "a" } },
      { kind: "Certificate", metadata: { name: "c", namespace: "b" }, spec: { secretName: "issued" } },
      { kind: "ConfigMap", metadata: { name: "m", namespace: "a" } },
    ]);
    expect([...created].sort()).toEqual(["a/s", "b/issued"]);
  });
});
