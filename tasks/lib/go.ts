// The Go toolchain our builds use (Go CLIs, the simulated cluster). The
// machine's go is used when it is new enough; an older one (≥ 1.21, which
// understands GOTOOLCHAIN) is told to fetch the pinned toolchain from the Go
// module proxy, so a fresh machine with an older Go still builds. Our GOFLAGS
// extend the user's (`go env -w GOFLAGS=…`) instead of replacing them.
import { existsSync } from "node:fs";
import { TaskError } from "./errors.ts";
import { run } from "./exec.ts";
import { pins } from "./settings.ts";
import { findTool } from "./tools.ts";
import { compareVersions } from "./version.ts";

export interface GoToolchain {
  /** The go command. */
  go: string;
  /** Environment for every go invocation of ours. */
  env: Record<string, string>;
  /** What the builds run with, for messages: "go1.26.8 (machine's)" or "go1.26.8 (from the module proxy)". */
  describe: string;
}

/** Oldest go command that honours GOTOOLCHAIN (it can fetch a newer toolchain itself). */
const toolchainSwitchSince = "1.21";

/** go on PATH (or KORTHWEB_GO), else the usual /usr/local/go install. */
export function findGo(): string | undefined {
  return findTool("go") ?? (existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : undefined);
}

/** Decides how to run go given the machine's version (e.g. "go1.26.8") and the user's GOFLAGS. */
export function toolchainEnv(machineVersion: string, userGoFlags: string): { env: Record<string, string>; fetched: boolean } {
  const goFlags = [...userGoFlags.split(/\s+/).filter((flag) => flag && !flag.startsWith("-mod=")), "-mod=mod"].join(" ");
  const base = { CGO_ENABLED: "0", GOFLAGS: goFlags };
  const version = machineVersion.replace(/^go/, "");
  if (compareVersions(version, pins.go.minimum) >= 0) return { env: { ...base, GOTOOLCHAIN: "local" }, fetched: false };
  if (compareVersions(version, toolchainSwitchSince) >= 0) return { env: { ...base, GOTOOLCHAIN: pins.go.toolchain }, fetched: true };
  throw new TaskError(`Go ${version} is too old: the builds need Go ≥ ${pins.go.minimum}, and a go command older than ${toolchainSwitchSince} cannot fetch it`, {
    code: "missingTool",
    hint: `install Go ≥ ${pins.go.minimum} (or any Go ≥ ${toolchainSwitchSince}: it fetches ${pins.go.toolchain} from the module proxy itself), then re-run`,
  });
}

export async function requireGo(purpose: string): Promise<GoToolchain> {
  const go = findGo();
  if (!go) {
    throw new TaskError(`${purpose} needs the Go toolchain, which is not on PATH nor in /usr/local/go`, {
      code: "missingTool",
      hint: `install Go ≥ ${pins.go.minimum} (Debian's golang-go is too old; any Go ≥ ${toolchainSwitchSince} works: it fetches ${pins.go.toolchain} from the module proxy), then re-run`,
    });
  }
  // GOTOOLCHAIN=local: ask the machine's own go, not one a go.mod or go.env would switch to.
  const { stdout } = await run(go, ["env", "GOVERSION", "GOFLAGS"], { env: { GOTOOLCHAIN: "local" }, silent: true });
  const [machineVersion = "", userGoFlags = ""] = stdout.split("\n").map((line) => line.trim());
  const { env, fetched } = toolchainEnv(machineVersion, userGoFlags);
  return { go, env, describe: fetched ? `${pins.go.toolchain} (from the module proxy; the machine has ${machineVersion})` : `${machineVersion} (machine's)` };
}
