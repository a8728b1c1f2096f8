// How the builds pick their Go: the machine's when new enough, the pinned
// toolchain from the module proxy when older, a clear refusal when too old to
// fetch one; the user's GOFLAGS kept.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isTaskError } from "../../tasks/lib/errors.ts";
import { findGo, requireGo, toolchainEnv } from "../../tasks/lib/go.ts";
import { pins } from "../../tasks/lib/settings.ts";

describe("toolchainEnv", () => {
  it("uses the machine's Go when it meets the minimum", () => {
    const { env, fetched } = toolchainEnv(`go${pins.go.minimum}.0`, "");
    expect(fetched).toBe(false);
    expect(env).toEqual({ CGO_ENABLED: "0", GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" });
  });

  it("has an older go fetch the pinned toolchain from the module proxy", () => {
    const { env, fetched } = toolchainEnv("go1.22.5", "");
    expect(fetched).toBe(true);
    expect(env.GOTOOLCHAIN).toBe(pins.go.toolchain);
  });

  it("refuses a go too old to fetch a toolchain, naming the minimum (exit 3)", () => {
    let caught: unknown;
    try {
      toolchainEnv("go1.19.8", "");
    } catch (error) {
      caught = error;
    }
    expect(isTaskError(caught) && caught.code).toBe("missingTool");
    expect((caught as Error).message).toMatch(new RegExp(`Go 1\\.19\\.8 is too old.*≥ ${pins.go.minimum.replace(".", "\\.")}`));
  });

  it("keeps the user's GOFLAGS and replaces only their -mod", () => {
    expect(toolchainEnv("go1.26.8", "-buildvcs=false -mod=vendor -modcacherw").env.GOFLAGS).toBe("-buildvcs=false -modcacherw -mod=mod");
  });

  it("the pinned toolchain meets the minimum", () => {
    expect(toolchainEnv(pins.go.toolchain, "").fetched).toBe(false);
  });
});

describe("requireGo on this machine", () => {
  it("reports the machine's go version as go itself prints it", async () => {
    const go = findGo();
    expect(go, "make test needs Go (README prerequisites)").toBeDefined();
    const printed = execFileSync(go!, ["env", "GOVERSION"], { env: { ...process.env, GOTOOLCHAIN: "local" } }).toString().trim();
    const toolchain = await requireGo("this test");
    expect(toolchain.go).toBe(go);
    expect(toolchain.describe).toContain(toolchain.env.GOTOOLCHAIN === "local" ? printed : pins.go.toolchain);
  });
});
