// The validator as a library: give it objects (or sources that render them)
// and get findings back. Used by `make validate`, by `make audit` and by tests.
import { describeObject, ManifestParseError, parseManifests, type SourcedObject } from "../../tasks/lib/manifests.ts";
import { allowedWithoutSchema, removedApis } from "../../tasks/lib/api-versions.ts";
import { crdModels, crdModuleApis } from "./crd-models.ts";
import { unpinnedImages, type DigestWarning } from "./digests.ts";
import type { Finding } from "./finding.ts";
import { checkPolicy } from "./policy.ts";
import { loadRegistry, lookupModel } from "./registry.ts";
import type { Source } from "./source.ts";
import { validateStrict } from "./strict.ts";

export interface ValidateOptions {
  /** Objects come from committed files (enables the "no Secret data in Git" rule). */
  committed: boolean;
  /** Skip the workload policy (for third-party objects). */
  policy?: boolean;
}

export async function validateObjects(objects: readonly SourcedObject[], options: ValidateOptions): Promise<Finding[]> {
  const registry = await loadRegistry();
  const findings: Finding[] = [];
  for (const { object, source } of objects) {
    const name = describeObject(object);
    const add = (issue: Omit<Finding, "file" | "object">) => findings.push({ file: source, object: name, ...issue });
    const { apiVersion, kind } = object;
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
      add({ path: typeof apiVersion !== "string" ? "apiVersion" : "kind", rule: "schema", message: "apiVersion and kind must be strings" });
      continue;
    }
    const replacement = removedApis[apiVersion];
    if (replacement) {
      add({ path: "apiVersion", rule: "removed-api", message: `${apiVersion} is removed or deprecated; use ${replacement}` });
      continue;
    }
    // CloudNativePG and its backup plugin: schemas from their CRDs (crd-models.ts), loaded only when needed.
    const model = crdModuleApis[apiVersion] ? (await crdModels()).find((m) => m.apiVersion === apiVersion && m.kind === kind) : lookupModel(registry, apiVersion, kind);
    if (model) {
      for (const error of validateStrict(model, object).errors) add(error);
    } else if (!allowedWithoutSchema[`${apiVersion} ${kind}`]) {
      add({
        path: "apiVersion",
        rule: "no-schema",
        message: `no schema for ${apiVersion} ${kind}: not a served API we know; fix the apiVersion/kind, or add it to the allow-list in tasks/lib/api-versions.ts with a reason`,
      });
    }
    if (options.policy !== false) for (const issue of checkPolicy(object, { committed: options.committed })) add(issue);
  }
  return findings;
}

/** Validate YAML text as if it came from `source`. Parse errors become findings. */
export async function validateText(text: string, source: string, options: ValidateOptions): Promise<Finding[]> {
  try {
    return await validateObjects(parseManifests(text, source), options);
  } catch (error) {
    if (error instanceof ManifestParseError) return [{ file: source, object: "-", path: `document ${error.index + 1}`, rule: "parse", message: error.message }];
    throw error;
  }
}

export interface SourceResult {
  source: Source;
  objects: number;
  findings: Finding[];
  /** Not failures: images pinned by tag only (digests.ts). */
  warnings: DigestWarning[];
}

export async function validateSources(sources: readonly Source[], concurrency = 4): Promise<SourceResult[]> {
  const results: SourceResult[] = new Array(sources.length);
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const index = next++;
      const source = sources[index]!;
      try {
        const objects = await source.load();
        results[index] = { source, objects: objects.length, findings: await validateObjects(objects, { committed: source.committed }), warnings: unpinnedImages(objects) };
      } catch (error) {
        const rule = error instanceof ManifestParseError ? "parse" : "render";
        const message = (error as Error).message;
        results[index] = { source, objects: 0, findings: [{ file: source.label, object: "-", path: "-", rule, message }], warnings: [] };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, worker));
  return results;
}

/** Identical findings reached through several sources (nested kustomizations) are reported once. */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.object}|${finding.path}|${finding.rule}|${finding.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
