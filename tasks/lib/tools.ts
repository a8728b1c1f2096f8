// Finds the external tools a task needs and checks their versions.
// Lookup order: KORTHWEB_<TOOL> (an explicit path), the project's pinned copy
// in .tools/bin (made by `make setup`), then the user's PATH. A user's newer
// tool on PATH is never replaced or modified.
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { TaskError } from "./errors.ts";
import { run } from "./exec.ts";
import { toolsBinDir } from "./paths.ts";
import { pins } from "./settings.ts";
import { compareVersions, parseVersion } from "./version.ts";

export type ToolName = "helm" | "kubectl" | "istioctl" | "flux" | "haproxy" | "Orthanc" | "openssl";

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env[`KORTHWEB_${name.toUpperCase()}`];
  if (override) return isExecutable(override) ? override : undefined;
  const pinned = join(toolsBinDir, name);
  if (isExecutable(pinned)) return pinned;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function requireToolPath(name: string): string {
  const path = findTool(name);
  if (!path) {
    throw new TaskError(`${name} not found (looked at KORTHWEB_${name.toUpperCase()}, .tools/bin and PATH)`, {
      code: "missingTool",
      hint: name === "helm" || name === "kubectl" ? "run `make setup`" : `install ${name}, or set KORTHWEB_${name.toUpperCase()} to its path`,
    });
  }
  return path;
}

// How each tool reports its version, and how to read it.
const versionCommands: Record<string, string[]> = {
  helm: ["version", "--template", "{{.Version}}"],
  kubectl: ["version", "--client", "-o", "json"],
  istioctl: ["version", "--remote=false", "--short"],
  flux: ["version", "--client"],
};

export async function toolVersion(name: string, path = requireToolPath(name)): Promise<string> {
  const args = versionCommands[name] ?? ["--version"];
  const { stdout, stderr } = await run(path, args, { silent: true, allowFailure: true });
  if (name === "kubectl") {
    try {
      return (JSON.parse(stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
    } catch {
      return "";
    }
  }
  const version = parseVersion(`${stdout}\n${stderr}`);
  return version ? `v${version.join(".")}` : "";
}

/** Throws unless the tool exists and is at least `minimum` (e.g. "1.33"). */
export async function requireTool(name: string, minimum: string): Promise<{ path: string; version: string }> {
  const path = requireToolPath(name);
  const version = await toolVersion(name, path);
  if (!version || compareVersions(version, minimum) < 0) {
    throw new TaskError(`${name} at ${path} is ${version || "of unknown version"}; korthweb needs ${minimum} or newer`, {
      code: "missingTool",
      hint: "run `make setup` for the pinned version, or put a newer one first on PATH",
    });
  }
  return { path, version };
}

/** A pinned Go CLI that `make setup-go-tools` builds into .tools/bin (pins.goTools), or a missingTool error saying so. */
export function builtGoTool(name: keyof typeof pins.goTools): string {
  const path = join(toolsBinDir, name);
  if (!existsSync(path)) {
    throw new TaskError(`${name} ${pins.goTools[name].version} is not built in .tools/bin`, {
      code: "missingTool",
      hint: "run `make setup-go-tools` (builds it from the Go module proxy, pinned in tasks/lib/settings.ts)",
    });
  }
  return path;
}
