// Builds pinned third-party Go CLIs (istioctl, …) from the Go module proxy
// into .tools/bin. Builds are cached by Go (GOMODCACHE, GOCACHE: outside the
// repository), so only the first run is slow; a stamp file records what was built.
// Usage: node tasks/setup/go-tools.ts [name …]   (default: all pinned tools)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError, exitCodeOf, TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { log, progress } from "../lib/log.ts";
import { toolsBinDir } from "../lib/paths.ts";
import { pins } from "../lib/settings.ts";
import { findTool } from "../lib/tools.ts";

export type GoToolName = keyof typeof pins.goTools;

const stampFile = (name: string) => join(toolsBinDir, `.${name}.pin`);

export function isBuilt(name: GoToolName): boolean {
  const pin = pins.goTools[name];
  const stamp = stampFile(name);
  return existsSync(join(toolsBinDir, name)) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === `${pin.package}@${pin.version}`;
}

/** The Go toolchain: go on PATH, else the usual /usr/local/go install. */
export function requireGo(purpose: string): string {
  const go = findTool("go") ?? (existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : undefined);
  if (!go) {
    throw new TaskError(`${purpose} needs the Go toolchain, which is not on PATH`, {
      code: "missingTool",
      hint: "install Go ≥ 1.26 (https://go.dev/dl or your distribution), then re-run",
    });
  }
  return go;
}

export async function buildGoTool(name: GoToolName): Promise<void> {
  const pin = pins.goTools[name];
  if (isBuilt(name)) {
    log.ok(`${name} ${pin.stamp} in .tools/bin (already built from ${pin.package}@${pin.version})`);
    return;
  }
  const go = requireGo(`building ${name}`);
  mkdirSync(toolsBinDir, { recursive: true });
  const line = progress(`building ${name} from ${pin.package}@${pin.version} (first time: several minutes)`);
  try {
    await run(go, ["install", "-trimpath", `-ldflags=${pin.ldflags}`, `${pin.package}@${pin.version}`], {
      env: { GOBIN: toolsBinDir, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
      silent: true,
    });
  } catch (error) {
    line.fail(`building ${name} failed`);
    throw error;
  }
  writeFileSync(stampFile(name), `${pin.package}@${pin.version}\n`);
  line.done(`${name} ${pin.stamp} built into .tools/bin`);
}

if (import.meta.main) {
  try {
    const names = (process.argv.length > 2 ? process.argv.slice(2) : Object.keys(pins.goTools)) as GoToolName[];
    for (const name of names) {
      if (!(name in pins.goTools)) throw new TaskError(`unknown Go tool "${name}"; known: ${Object.keys(pins.goTools).join(", ")}`, { code: "usage" });
      await buildGoTool(name);
    }
  } catch (error) {
    log.error(describeError(error));
    process.exitCode = exitCodeOf(error);
  }
}
