// Tenants are named by Flux's post-build substitution (postBuild.substitute),
// which the offline tree reader emulates (tasks/gitops/post-build.ts). What
// Flux does to ${...} in our objects, and that Orthanc's own ${VAR}
// placeholders reach Orthanc untouched: those in the chart (Flux never
// substitutes a chart's render), and any in a tenant's values (escaped $${VAR}).
import { describe, expect, it } from "vitest";
import { checkRenders, formatProblem } from "../../proving-ground/checks/gitops/checks.ts";
import { renderTenantReleases } from "../../proving-ground/checks/gitops/release-render.ts";
import { postBuildVariables, substitute, substituteObjects } from "../../tasks/gitops/post-build.ts";
import { loadFluxTree, orthancRelease, renderFluxTree } from "../../tasks/gitops/tree.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();
const vars = new Map([
  ["tenant", "bhc"],
  ["domain", "bhc.korthweb.test"],
  ["empty", ""],
]);

describe("Flux's substitution, emulated", () => {
  it("fills in ${var} and its defaults, keeps $${var} as ${var} and a lone $ as it is", () => {
    expect(substitute("ns/${tenant}-ingress/sa/${tenant}-ingress", vars)).toBe("ns/bhc-ingress/sa/bhc-ingress");
    expect(substitute("${missing:=fallback} ${missing:-fallback} ${empty:=fallback} ${empty=kept} ${tenant:=other}", vars)).toBe("fallback fallback fallback  bhc");
    expect(substitute('{"Password": "$${ORTHANC_DB_PASSWORD}", "Cost": "$5", "Shell": "$HOME"}', vars)).toBe('{"Password": "${ORTHANC_DB_PASSWORD}", "Cost": "$5", "Shell": "$HOME"}');
  });

  it("refuses what it cannot do as Flux does, naming the variable, instead of writing an empty string", () => {
    expect(() => substitute("${ORTHANC_DB_PASSWORD}", vars)).toThrow("${ORTHANC_DB_PASSWORD} has no value (postBuild.substitute) and no default; for a literal ${ORTHANC_DB_PASSWORD} write $${ORTHANC_DB_PASSWORD}");
    expect(() => substitute("${tenant/b/x}", vars)).toThrow("${tenant/b/x} uses syntax this offline substitution does not emulate");
    expect(() => substitute("${tenant", vars)).toThrow("unterminated ${");
    expect(() => substitute("${domain:=${tenant}.test}", vars)).toThrow("a variable inside a default is not emulated offline");
  });

  it("reads substitute over substituteFrom, later sources over earlier, and refuses a Secret it cannot read offline", () => {
    const kustomization = (postBuild: unknown): KubeObject => ({ apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "k", namespace: "bhc" }, spec: { postBuild } });
    const maps: Record<string, Record<string, string>> = { a: { tenant: "a", domain: "a.test" }, b: { tenant: "b" } };
    const lookup = (kind: string, name: string) => (kind === "ConfigMap" ? maps[name] : undefined);
    const from = [{ kind: "ConfigMap", name: "a" }, { kind: "ConfigMap", name: "b" }];
    expect(Object.fromEntries(postBuildVariables(kustomization({ substituteFrom: from }), lookup)!)).toEqual({ tenant: "b", domain: "a.test" });
    expect(Object.fromEntries(postBuildVariables(kustomization({ substitute: { tenant: "c" }, substituteFrom: from }), lookup)!)).toEqual({ tenant: "c", domain: "a.test" });
    expect(postBuildVariables(kustomization({}), lookup)).toBeUndefined();
    expect(() => postBuildVariables(kustomization({ substituteFrom: [{ kind: "Secret", name: "vars" }] }), lookup)).toThrow("postBuild.substituteFrom Secret vars is not in the tree (Secrets are made at install time, not read offline)");
    expect(postBuildVariables(kustomization({ substituteFrom: [{ kind: "Secret", name: "vars", optional: true }] }), lookup)?.size).toBe(0);
    expect(() => postBuildVariables(kustomization({ substitute: { "tenant-name": "x" } }), lookup)).toThrow('postBuild variable name "tenant-name" is not valid');
  });

  it("leaves an object marked kustomize.toolkit.fluxcd.io/substitute: disabled as it is", () => {
    const config = (annotations: Record<string, string>): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "orthanc", namespace: "${tenant}", annotations }, data: { "orthanc.json": '{"Password": "${ORTHANC_DB_PASSWORD}"}' } });
    expect(substituteObjects([config({ "kustomize.toolkit.fluxcd.io/substitute": "disabled" })], vars)[0]).toEqual(config({ "kustomize.toolkit.fluxcd.io/substitute": "disabled" }));
    expect(() => substituteObjects([config({})], vars)).toThrow("ConfigMap ${tenant}/orthanc: ${ORTHANC_DB_PASSWORD} has no value");
  });
});

describe("Orthanc's ${VAR} placeholders in the tenants' tree", () => {
  it("are untouched in the chart's render: each tenant's Orthanc configuration still reads its credentials from the environment", async () => {
    const tree = await loadFluxTree(repoRoot);
    const renders = await renderTenantReleases(tree);
    for (const tenant of tree.tenants) {
      const config = renders.get(tenant.name)!.objects.map((item) => item.object).find((o) => o.kind === "ConfigMap" && JSON.stringify(o).includes("orthanc.json"))!;
      const text = JSON.stringify(config.data);
      for (const placeholder of ["${ORTHANC_ADMIN_USERNAME}", "${ORTHANC_ADMIN_PASSWORD}", "${ORTHANC_DB_PASSWORD}"]) expect(text, tenant.name).toContain(placeholder);
    }
  });

  it("survive in a tenant's values when escaped ($${VAR}); unescaped, the tree refuses to render, as Flux would", async () => {
    const escaped = copy();
    const extra = "    extraEnv:\n      - name: S3_KEY\n        valueFrom:\n          secretKeyRef: {name: s3, key: key}\n    orthanc:\n      config:\n        AwsS3Storage:\n          SecretKey: \"$${S3_KEY}\"\n";
    escaped.edit("gitops/tenants/base/workload/orthanc.yaml", "    domain: ${domain}\n", `    domain: \${domain}\n${extra}`);
    const tree = await renderFluxTree(escaped.root);
    expect(checkRenders(tree).map(formatProblem)).toEqual([]);
    for (const tenant of tree.tenants) expect(orthancRelease(tenant)!.values).toMatchObject({ domain: `${tenant.name}.korthweb.test`, orthanc: { config: { AwsS3Storage: { SecretKey: "${S3_KEY}" } } } });

    const unescaped = copy();
    unescaped.edit("gitops/tenants/base/workload/orthanc.yaml", "    domain: ${domain}\n", `    domain: \${domain}\n${extra.replace("$${S3_KEY}", "${S3_KEY}")}`);
    expect(checkRenders(await renderFluxTree(unescaped.root)).map(formatProblem)).toEqual(
      ["bhc", "mhr"].map(
        (tenant) =>
          `[render] Kustomization ${tenant}/tenant (./gitops/tenants/${tenant}/workload): postBuild: HelmRelease \${tenant}/orthanc: \${S3_KEY} has no value (postBuild.substitute) and no default; for a literal \${S3_KEY} write $\${S3_KEY}`,
      ),
    );
  });
});
