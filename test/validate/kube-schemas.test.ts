// The schemas kubeconform reads are made strict by us: objects with properties
// close, maps and preserved fields stay open, null is accepted where a type is,
// and CRD kinds get Kubernetes' ObjectMeta as metadata.
import { describe, expect, it } from "vitest";
import { crdKindSchemas, schemaFileOf, strictSchema } from "../../proving-ground/validate/kube-schemas.ts";

describe("strict schemas for kubeconform", () => {
  it("closes objects with properties; maps and preserved fields stay open; refs point at definitions", () => {
    const schema = strictSchema({
      type: "object",
      properties: {
        spec: { type: "object", properties: { replicas: { type: "integer" } } },
        labels: { type: "object", additionalProperties: { type: "string" } },
        values: { type: "object", properties: { a: { type: "string" } }, "x-kubernetes-preserve-unknown-fields": true },
        template: { $ref: "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec" },
        mode: { type: "string", enum: ["A", "B"] },
      },
    });
    expect(schema).toEqual({
      type: "object",
      additionalProperties: false,
      properties: {
        spec: { type: ["object", "null"], additionalProperties: false, properties: { replicas: { type: ["integer", "null"] } } },
        labels: { type: ["object", "null"], additionalProperties: { type: ["string", "null"] } },
        values: { type: ["object", "null"], properties: { a: { type: ["string", "null"] } }, "x-kubernetes-preserve-unknown-fields": true },
        template: { $ref: "#/definitions/io.k8s.api.core.v1.PodTemplateSpec" },
        mode: { type: ["string", "null"], enum: ["A", "B", null] },
      },
    });
  });

  it("gives custom kinds Kubernetes' ObjectMeta, and takes only accepted API versions", () => {
    const crd = {
      spec: {
        group: "example.io",
        names: { kind: "Widget" },
        versions: [
          { name: "v1", schema: { openAPIV3Schema: { type: "object", properties: { metadata: { type: "object" }, spec: { type: "object" } } } } },
          { name: "v1beta1", schema: { openAPIV3Schema: { type: "object" } } },
        ],
      },
    };
    const schemas = crdKindSchemas([crd], { meta: { type: "object" } }, (apiVersion) => apiVersion === "example.io/v1");
    expect([...schemas.keys()]).toEqual(["example.io/v1 Widget"]);
    const widget = schemas.get("example.io/v1 Widget")!;
    expect((widget.properties as Record<string, unknown>).metadata).toEqual({ $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" });
    expect(widget.definitions).toEqual({ meta: { type: "object" } });
  });

  it("lays files out by full group, so networking.k8s.io and networking.istio.io do not share names", () => {
    expect(schemaFileOf("v1", "Service")).toBe("v1/service_v1.json");
    expect(schemaFileOf("networking.k8s.io/v1", "NetworkPolicy")).toBe("networking.k8s.io/networkpolicy_v1.json");
    expect(schemaFileOf("networking.istio.io/v1", "Gateway")).toBe("networking.istio.io/gateway_v1.json");
  });
});
