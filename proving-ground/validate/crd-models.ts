// Schemas for custom resources that kubernetes-models has no package for
// (CloudNativePG's Cluster and ScheduledBackup, the Barman Cloud Plugin's
// ObjectStore): read from the CRDs in the upstream Go modules at the pinned
// versions (pins.cloudnativePg, pins.barmanCloudPlugin), which the Go module
// proxy serves; `go mod download` keeps them in the Go module cache. Each CRD
// version becomes a model class the strict validator uses like the
// kubernetes-models ones (ajv, as those use; unknown fields found the same way).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo } from "../../tasks/lib/go.ts";
import { pins } from "../../tasks/lib/settings.ts";
import type { ModelClass } from "./strict.ts";

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

async function moduleDir(module: CrdModule): Promise<string> {
  const go = await requireGo(`schemas of ${module.path}`);
  const result = await run(go.go, ["mod", "download", "-json", `${module.path}@${module.version}`], { env: go.env, silent: true, allowFailure: true, cwd: "/" });
  const info = JSON.parse(result.stdout || "{}") as { Dir?: string; Error?: string };
  if (result.exitCode !== 0 || !info.Dir) {
    throw new TaskError(`could not download ${module.path}@${module.version} for its CRD schemas: ${info.Error ?? result.stderr.trim()}`, { hint: "the Go module proxy must be reachable once; the module is cached afterwards" });
  }
  return info.Dir;
}

type Schema = Record<string, unknown>;

/** Model classes (one per CRD version) from a CRD document. */
export function modelsFromCrd(crd: Schema, ajv: Ajv): ModelClass[] {
  const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema: { openAPIV3Schema: Schema } }[] };
  return spec.versions
    .filter((version) => version.served)
    .map((version) => {
      const validate = ajv.compile(version.schema.openAPIV3Schema);
      const apiVersion = `${spec.group}/${version.name}`;
      const kind = spec.names.kind;
      return {
        apiVersion,
        kind,
        prototype: {
          validate(this: object) {
            if (!validate(this)) throw Object.assign(new Error(`${apiVersion} ${kind} is invalid`), { errors: validate.errors });
          },
        },
      };
    });
}

let cached: Promise<ModelClass[]> | undefined;

/** Every model of the pinned CRD modules (downloads them on first use). */
export function crdModels(): Promise<ModelClass[]> {
  cached ??= (async () => {
    // Kubernetes extensions (x-kubernetes-*) and formats such as int-or-string are not ajv's: ignore them.
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    const models: ModelClass[] = [];
    for (const module of new Set(Object.values(crdModuleApis))) {
      const dir = await moduleDir(module);
      for (const file of module.files) models.push(...modelsFromCrd(parse(readFileSync(join(dir, "config", "crd", "bases", file), "utf8")) as Schema, ajv));
    }
    return models;
  })();
  return cached;
}
