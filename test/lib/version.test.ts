import { describe, expect, it } from "vitest";
import { compareVersions, parseVersion } from "../../tasks/lib/version.ts";
import { commandLine } from "../../tasks/lib/exec.ts";

describe("versions", () => {
  it("reads versions the way tools print them", () => {
    expect(parseVersion("v1.35.2")).toEqual([1, 35, 2]);
    expect(parseVersion("Client Version: v1.32.4-dispatcher")).toEqual([1, 32, 4]);
    expect(parseVersion("1.33")).toEqual([1, 33, 0]);
    expect(parseVersion("no version")).toBeUndefined();
  });

  it("compares numerically, not as text", () => {
    expect(compareVersions("v1.9.0", "1.33")).toBeLessThan(0);
    expect(compareVersions("v1.33.0-gke.1", "1.33")).toBe(0);
    expect(compareVersions("v4.1.4", "3.17")).toBeGreaterThan(0);
    expect(() => compareVersions("x", "1.0")).toThrow(/cannot compare/);
  });
});

describe("commandLine", () => {
  it("quotes only what a shell would need quoted", () => {
    expect(commandLine("helm", ["upgrade", "--install", "a b", "it's", "--set-string", "x=y"])).toBe(
      `helm upgrade --install 'a b' 'it'\\''s' --set-string x=y`,
    );
  });
});
