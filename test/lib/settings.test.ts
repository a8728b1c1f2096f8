import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaults, hostnames, loadSettings, pins } from "../../tasks/lib/settings.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";

describe("settings", () => {
  it("uses defaults with no overrides, under a reserved TLD", () => {
    const settings = loadSettings({}, {});
    expect(settings).toEqual(defaults);
    expect(settings.domain.endsWith(".test") || settings.domain.endsWith(".example")).toBe(true);
    expect(hostnames(settings.domain)).toEqual({ web: "web.korthweb.test", dicom: "dicom.korthweb.test" });
    expect(hostnames(settings.domain, "bhc")).toEqual({ web: "web.bhc.korthweb.test", dicom: "dicom.bhc.korthweb.test" });
  });

  it("lets environment override defaults and flags override the environment", () => {
    const env = { KORTHWEB_DOMAIN: "pacs.example", KORTHWEB_NAMESPACE: "pacs", KORTHWEB_TENANTS: "a, b" };
    expect(loadSettings(env, {}).domain).toBe("pacs.example");
    expect(loadSettings(env, {}).tenants).toEqual(["a", "b"]);
    const settings = loadSettings(env, { domain: "other.test", timeout: "30" });
    expect(settings.domain).toBe("other.test");
    expect(settings.namespaces.orthanc).toBe("pacs");
    expect(settings.timeoutSeconds).toBe(30);
  });

  it("does not leak overrides into the defaults", () => {
    loadSettings({}, { namespace: "changed" });
    expect(defaults.namespaces.orthanc).toBe("orthanc");
  });

  it.each([
    [{ KORTHWEB_DOMAIN: "Not A Domain" }, {}, /invalid KORTHWEB_DOMAIN "Not A Domain"/],
    [{}, { namespace: "Bad_NS" }, /invalid --namespace "Bad_NS": expected a DNS label/],
    [{}, { tenants: "bhc,bhc" }, /invalid --tenants "bhc,bhc": expected tenant names without duplicates/],
    [{}, { timeout: "-5" }, /invalid --timeout "-5"/],
  ])("rejects bad input naming the setting (%o %o)", (env, flags, message) => {
    expect(() => loadSettings(env, flags)).toThrow(message);
    try {
      loadSettings(env, flags);
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it("keeps the Node pin in tasks/setup/node.sh equal to the one in settings", () => {
    const script = readFileSync(join(repoRoot, "tasks/setup/node.sh"), "utf8");
    expect(script).toContain(`NODE_PIN="${pins.node}"`);
  });

  it("accepts the machine's Node from the same version package.json's engines names (node.sh runs before any Node of ours)", () => {
    const script = readFileSync(join(repoRoot, "tasks/setup/node.sh"), "utf8");
    const engines = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=\d+\.\d+$/);
    expect(script).toContain(`MIN_VERSION="${engines.slice(2)}"`);
  });
});
