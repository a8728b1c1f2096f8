// Builds pinned third-party Go CLIs (istioctl, kubeconform, gitleaks, …) from
// the Go module proxy into .tools/bin. Builds are cached by Go (GOMODCACHE,
// GOCACHE: outside the repository), so only the first run is slow; a stamp file
// records what was built. A module whose go.mod has `replace` lines cannot be
// `go install`ed by version; such a pin names its `module`, and it is built in
// a wrapper module that requires it and repeats its replaces (wrapper-module.ts).
// Usage: node tasks/setup/go-tools.ts [--only istioctl,kwok]   (default: all pinned tools)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { requireGo } from "../lib/go.ts";
import { log, progress } from "../lib/log.ts";
import { toolsBinDir } from "../lib/paths.ts";
import { pins } from "../lib/settings.ts";
import { main, type Task } from "../lib/task.ts";
import { ensureUnittestPlugin } from "./helm-plugins.ts";
import { buildInWrapperModule } from "./wrapper-module.ts";

export type GoToolName = keyof typeof pins.goTools;

const stampFile = (name: string) => join(toolsBinDir, `.${name}.pin`);

export function isBuilt(name: GoToolName): boolean {
  const pin = pins.goTools[name];
  const stamp = stampFile(name);
  return existsSync(join(toolsBinDir, name)) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === `${pin.package}@${pin.version}`;
}

export async function buildGoTool(name: GoToolName): Promise<void> {
  const pin = pins.goTools[name];
  if (isBuilt(name)) {
    afterBuild(name);
    log.ok(`${name} ${pin.stamp} in .tools/bin (already built from ${pin.package}@${pin.version})`);
    return;
  }
  const { go, env } = await requireGo(`building ${name}`);
  mkdirSync(toolsBinDir, { recursive: true });
  const line = progress(`building ${name} from ${pin.package}@${pin.version} (first time: several minutes)`);
  try {
    if ("module" in pin) {
      await buildInWrapperModule({ go, env }, { module: pin.module, package: pin.package, version: pin.version, ldflags: pin.ldflags, output: join(toolsBinDir, name) });
    } else {
      await run(go, ["install", "-trimpath", `-ldflags=${pin.ldflags}`, `${pin.package}@${pin.version}`], {
        env: { ...env, GOBIN: toolsBinDir },
        silent: true,
      });
    }
  } catch (error) {
    line.fail(`building ${name} failed`);
    throw error;
  }
  writeFileSync(stampFile(name), `${pin.package}@${pin.version}\n`);
  afterBuild(name);
  line.done(`${name} ${pin.stamp} built into .tools/bin`);
}

/** helm-unittest runs as a helm plugin: its plugin folder points at the binary. */
function afterBuild(name: GoToolName): void {
  if (name === "helm-unittest") ensureUnittestPlugin();
}

export const goToolsTask: Task = {
  id: "setup/go-tools",
  title: "Pinned Go CLIs into .tools/bin",
  summary: `Builds ${Object.keys(pins.goTools).join(", ")} from the Go module proxy at the versions pinned in tasks/lib/settings.ts (pins.goTools) into .tools/bin; Go's caches make re-runs quick. --only picks some.`,
  flags: { only: { type: "string", description: `comma-separated subset of ${Object.keys(pins.goTools).join(", ")}` } },
  validate: async (ctx) => {
    selectedTools(ctx.flags.only);
  },
  run: async (ctx) => {
    for (const name of selectedTools(ctx.flags.only)) {
      if (ctx.dryRun) log.info(`[dry-run] would build ${name} from ${pins.goTools[name].package}@${pins.goTools[name].version} unless already built`);
      else await buildGoTool(name);
    }
  },
};

/** The tools --only names (all pinned ones by default); unknown names are a usage error. */
export function selectedTools(only: unknown): GoToolName[] {
  const known = Object.keys(pins.goTools) as GoToolName[];
  if (typeof only !== "string") return known;
  const names = only.split(",").map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(known as string[]).includes(name)) throw new TaskError(`unknown Go tool "${name}" in --only; known: ${known.join(", ")}`, { code: "usage" });
  }
  return names as GoToolName[];
}

if (import.meta.main) await main("setup-go-tools", [goToolsTask]);
