// Generating the CRDs probes ~18 000 schema nodes (about 10 s): the result is
// cached outside the repository, keyed by the installed kubernetes-models
// package versions and the generator's own source, so any change to either
// regenerates it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { buildDirs, cacheRoot } from "./layout.ts";
import { crdList, generateCrds } from "./crds.ts";

const generatorSources = ["proving-ground/cluster/crds.ts", "proving-ground/cluster/schema-probe.ts", "tasks/lib/api-versions.ts"];

function modelPackageVersions(): string[] {
  const scoped = fromRoot("node_modules", "@kubernetes-models");
  const dirs = [fromRoot("node_modules", "kubernetes-models"), ...readdirSync(scoped).map((name) => join(scoped, name))];
  return dirs.map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; version: string };
    return `${pkg.name}@${pkg.version}`;
  });
}

export function crdCacheKey(): string {
  const hash = createHash("sha256");
  for (const item of modelPackageVersions().sort()) hash.update(`${item}\n`);
  for (const source of generatorSources) hash.update(readFileSync(fromRoot(source)));
  return hash.digest("hex").slice(0, 16);
}

/** The CRD List file for the current packages and generator, generated on first use. */
export async function crdFile(root = cacheRoot()): Promise<{ path: string; generated: boolean }> {
  const dir = buildDirs(root).crds;
  const path = join(dir, `crds-${crdCacheKey()}.json`);
  if (existsSync(path)) return { path, generated: false };
  const { crds } = await generateCrds();
  mkdirSync(dir, { recursive: true });
  // Written aside then renamed: a concurrent reader never sees half a file.
  writeFileSync(`${path}.${process.pid}`, crdList(crds));
  renameSync(`${path}.${process.pid}`, path);
  return { path, generated: true };
}
