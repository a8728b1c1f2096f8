// CRD documents for custom resources whose CRDs the simulated cluster does not
// serve (CloudNativePG's Cluster and ScheduledBackup, the Barman Cloud Plugin's
// ObjectStore): read from the upstream Go modules at the pinned versions
// (pins.cloudnativePg, pins.barmanCloudPlugin), which the Go module proxy
// serves; `go mod download` keeps them in the Go module cache. kube-schemas.ts
// turns them into strict kubeconform schemas like the other custom kinds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo } from "../../tasks/lib/go.ts";
import { pins } from "../../tasks/lib/settings.ts";

interface CrdModule {
  path: string;
  version: string;
  files: readonly string[];
}

/** apiVersion → the pinned Go module whose CRDs define it. */
export const crdModuleApis: Record<string, CrdModule> = {
  "postgresql.cnpg.io/v1": pins.cloudnativePg.crdModule,
  "barmancloud.cnpg.io/v1": pins.barmanCloudPlugin.crdModule,
};

/** What the CRD documents depend on: part of the schema folder's cache key. */
export const crdModulesKey = (): string => JSON.stringify(Object.entries(crdModuleApis));

async function moduleDir(module: CrdModule): Promise<string> {
  const go = await requireGo(`schemas of ${module.path}`);
  const result = await run(go.go, ["mod", "download", "-json", `${module.path}@${module.version}`], { env: go.env, silent: true, allowFailure: true, cwd: "/" });
  const info = JSON.parse(result.stdout || "{}") as { Dir?: string; Error?: string };
  if (result.exitCode !== 0 || !info.Dir) {
    throw new TaskError(`could not download ${module.path}@${module.version} for its CRD schemas: ${info.Error ?? result.stderr.trim()}`, { hint: "the Go module proxy must be reachable once; the module is cached afterwards" });
  }
  return info.Dir;
}

/** The CRD documents of every pinned module (downloads them on first use). */
export async function crdModuleDocuments(): Promise<unknown[]> {
  const documents: unknown[] = [];
  for (const module of new Set(Object.values(crdModuleApis))) {
    const dir = await moduleDir(module);
    for (const file of module.files) documents.push(parse(readFileSync(join(dir, "config", "crd", "bases", file), "utf8")));
  }
  return documents;
}
