// kubeconform's report reaches us as text: its nested error tree must come out
// as one finding per leaf, with a JSON path and our rule names.
import { describe, expect, it } from "vitest";
import { issuesOf, leafErrors } from "../../proving-ground/validate/kubeconform.ts";

describe("reading kubeconform's messages", () => {
  it("takes the leaves of the error tree, not the 'allOf' wrappers that hide them", () => {
    const msg =
      "problem validating schema. Check JSON formatting: jsonschema validation failed with 'file:///s/apps/deployment_v1.json#' - at '/spec': 'allOf' failed   - at '/spec/template/spec/containers/0': additional properties 'imagePullPolicyy' not allowed - at '/spec/replicas': got string, want null or integer";
    expect(leafErrors(msg)).toEqual([
      { pointer: "/spec/template/spec/containers/0", message: "additional properties 'imagePullPolicyy' not allowed" },
      { pointer: "/spec/replicas", message: "got string, want null or integer" },
    ]);
  });

  it("names each unknown and each missing field by its own path", () => {
    expect(issuesOf("/spec/routes/0", "additional properties 'mach', 'prio' not allowed", "traefik.io/v1alpha1 IngressRoute")).toEqual([
      { path: "spec.routes[0].mach", rule: "unknown-field", message: 'unknown field "mach" (not in the traefik.io/v1alpha1 IngressRoute schema)' },
      { path: "spec.routes[0].prio", rule: "unknown-field", message: 'unknown field "prio" (not in the traefik.io/v1alpha1 IngressRoute schema)' },
    ]);
    expect(issuesOf("/spec", "missing property 'secretName'", "x")).toEqual([{ path: "spec.secretName", rule: "schema", message: "required field is missing" }]);
  });

  it("drops the null that our schemas accept from what a value must be", () => {
    expect(issuesOf("/spec/replicas", "got string, want null or integer", "x")[0]!.message).toBe("must be integer (got string)");
    expect(issuesOf("/a", "value must be one of 'RSA', 'ECDSA', <nil>", "x")[0]!.message).toBe("must be one of 'RSA', 'ECDSA'");
  });
});
