// The local stack's reading of the chart: helm template of helm/orthanc with
// proving-ground/local/values.yaml gives the contract's objects, and the effective
// configuration is the rendered one plus the local overlay and nothing else.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Helm } from "../../tasks/lib/helm.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { resolveEnv } from "../../proving-ground/local/container-env.ts";
import { localLayout } from "../../proving-ground/local/layout.ts";
import { applyOverlay, differingPaths, overlayPaths, parseTemplate, referencedVariables, type JsonObject } from "../../tasks/lib/orthanc-config.ts";
import { debianPluginDir, localOverlay } from "../../proving-ground/local/overlay.ts";
import { prepare } from "../../proving-ground/local/prepare.ts";
import { checkTlsMaterial, extractOrthanc, renderOrthanc } from "../../proving-ground/local/render.ts";
import { loadRuntime } from "../../proving-ground/local/runtime.ts";
import { loadLocalSettings } from "../../proving-ground/local/settings.ts";
import { useCapturedLog } from "../helpers/log.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-local-render-"));
const settings = { ...loadLocalSettings(defaults, {}, {}), dir };
const helm = new Helm({ context: undefined, dryRun: false });

describe("rendering the chart for the local stack", () => {
  useCapturedLog();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds the contract's ConfigMap, Deployment env and TLS Secret", async () => {
    const rendered = await renderOrthanc(helm, settings);
    expect(rendered.source).toContain("helm template orthanc helm/orthanc -n orthanc -f proving-ground/local/values.yaml");
    // Every ${VAR} orthanc.json uses is set by the container env.
    const envNames = rendered.env.map((spec) => spec.name);
    for (const name of referencedVariables(rendered.configText)) expect(envNames).toContain(name);
    expect(rendered.env.find((spec) => spec.name === "TCP_NODELAY")?.source).toEqual({ kind: "value", value: "1" });
    const facts = checkTlsMaterial(rendered.tls!, ["web.korthweb.test", "dicom.korthweb.test"], "chart TLS");
    expect(facts.sans).toEqual(expect.arrayContaining(["web.korthweb.test", "dicom.korthweb.test"]));
  });

  it("writes an effective configuration equal to the rendered one plus the overlay, and nothing else", async () => {
    const prepared = await prepare(helm, settings, localLayout(dir));
    const layout = localLayout(dir);
    const rendered = await renderOrthanc(helm, settings);
    const original = parseTemplate(rendered.configText, "rendered");
    const effective = parseTemplate(readFileSync(layout.orthanc.config, "utf8"), "effective");
    const overlay = JSON.parse(readFileSync(layout.orthanc.overlay, "utf8")) as JsonObject;

    expect(overlay).toEqual(prepared.overlay);
    expect(Object.keys(overlay).sort()).toEqual(["IndexDirectory", "Plugins", "PostgreSQL", "StorageDirectory"]);
    expect(effective).toEqual(applyOverlay(original, overlay));
    // The paths that differ are overlay paths; nothing outside the overlay changed.
    const changed = differingPaths(original, effective);
    expect(changed.length).toBeGreaterThan(0);
    for (const path of changed) expect(overlayPaths(overlay)).toContain(path);
    // Plugins: the same files, in Debian's folder.
    const names = (list: unknown) => (list as string[]).map((p) => p.split("/").pop());
    expect(names(effective.Plugins)).toEqual(names(original.Plugins));
    for (const plugin of effective.Plugins as string[]) expect(plugin.startsWith(`${debianPluginDir}/`)).toBe(true);
    // Secrets stay references in the file.
    expect(readFileSync(layout.orthanc.config, "utf8")).toContain('"Password": "${ORTHANC_DB_PASSWORD}"');
  });

  it("fills Secret references with generated alphanumeric values kept in 0600 files", async () => {
    await prepare(helm, settings, localLayout(dir));
    const runtime = loadRuntime(localLayout(dir), settings);
    expect(runtime.facts.login.username).toBe("admin");
    expect(runtime.facts.login.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(runtime.facts.database.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(runtime.facts.database.ssl).toBe(true);
    expect(loadRuntime(localLayout(dir), settings).facts.login.password).toBe(runtime.facts.login.password);
    const { statSync, readdirSync } = await import("node:fs");
    for (const file of readdirSync(localLayout(dir).secretsDir)) {
      expect(statSync(join(localLayout(dir).secretsDir, file)).mode & 0o777).toBe(0o600);
    }
  });

  it("refuses a chart output that breaks the contract, naming what is missing", () => {
    const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orthanc-config}\ndata:\n  orthanc.json: '{}'\n";
    expect(() => extractOrthanc("", "orthanc", "helm template x")).toThrow(/rendered no ConfigMap orthanc-config with key orthanc.json/);
    expect(() => extractOrthanc(configMap, "orthanc", "helm template x")).toThrow(/rendered no Deployment orthanc/);
    const deployment = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: orthanc}\nspec: {template: {spec: {containers: [{name: other}]}}}\n";
    expect(() => extractOrthanc(configMap + deployment, "orthanc", "helm template x")).toThrow(/has no container named orthanc/);
    expect(() => localOverlay({ rendered: {}, layout: localLayout(dir), postgresqlPort: 1 })).toThrow(/lists no Plugins/);
  });

  it("resolves env like Kubernetes: literals with $(VAR), Secret keys, pod fields; unknown sources are errors", () => {
    const env = resolveEnv(
      [
        { name: "A", source: { kind: "value", value: "x" } },
        { name: "B", source: { kind: "value", value: "$(A)-$$(A)-$(MISSING)" } },
        { name: "S", source: { kind: "secret", secret: "s", key: "k", optional: false } },
        { name: "P", source: { kind: "field", fieldPath: "metadata.name" } },
      ],
      { secret: (name, key) => `${name}/${key}`, configMap: () => undefined, fields: { "metadata.name": "pod-0" } },
    );
    expect(env).toEqual({ A: "x", B: "x-$(A)-$(MISSING)", S: "s/k", P: "pod-0" });
    expect(() =>
      resolveEnv([{ name: "X", source: { kind: "field", fieldPath: "spec.serviceAccountName" } }], { secret: () => "", configMap: () => undefined, fields: {} }),
    ).toThrow(/env X reads pod field spec.serviceAccountName/);
  });
});
