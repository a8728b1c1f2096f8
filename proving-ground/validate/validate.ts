// The validator as a library: give it objects (or sources that render them)
// and get findings back. Used by `make validate`, by `make audit` and by tests.
import { describeObject, ManifestParseError, parseManifests, type SourcedObject } from "../../tasks/lib/manifests.ts";
import { allowedWithoutSchema, removedApis } from "../../tasks/lib/api-versions.ts";
import type { Finding, Issue } from "./finding.ts";
import { hasSchema, kubeconformIssues, schemaDir, type SchemaInput } from "./kubeconform.ts";
import { checkPolicy } from "./policy.ts";
import type { Source } from "./source.ts";

export interface ValidateOptions {
  /** Objects come from committed files (enables the "no Secret data in Git" rule). */
  committed: boolean;
  /** Skip the workload policy (for third-party objects). */
  policy?: boolean;
}

/**
 * Schema issues of each object (same order): apiVersion and kind present, not a removed API,
 * a schema we have (or an allow-listed kind), then kubeconform -strict for all of them in one run.
 */
async function schemaIssues(objects: readonly SourcedObject[]): Promise<Issue[][]> {
  const dir = await schemaDir();
  const issues: Issue[][] = objects.map(() => []);
  const toCheck: { index: number; input: SchemaInput }[] = [];
  objects.forEach(({ object }, index) => {
    const { apiVersion, kind } = object;
    const add = (issue: Issue) => issues[index]!.push(issue);
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
      add({ path: typeof apiVersion !== "string" ? "apiVersion" : "kind", rule: "schema", message: "apiVersion and kind must be strings" });
      return;
    }
    const replacement = removedApis[apiVersion];
    if (replacement) add({ path: "apiVersion", rule: "removed-api", message: `${apiVersion} is removed or deprecated; use ${replacement}` });
    else if (allowedWithoutSchema[`${apiVersion} ${kind}`]) return;
    else if (!hasSchema(dir, apiVersion, kind)) {
      add({
        path: "apiVersion",
        rule: "no-schema",
        message: `no schema for ${apiVersion} ${kind}: not a served API we know; fix the apiVersion/kind, or add it to the allow-list in tasks/lib/api-versions.ts with a reason`,
      });
    } else toCheck.push({ index, input: { object: { ...object, apiVersion, kind } } });
  });
  const checked = await kubeconformIssues(toCheck.map((item) => item.input), dir);
  toCheck.forEach((item, i) => issues[item.index]!.push(...checked[i]!));
  return issues;
}

function findingsOf(objects: readonly SourcedObject[], schema: readonly Issue[][], options: ValidateOptions): Finding[] {
  const findings: Finding[] = [];
  objects.forEach(({ object, source }, index) => {
    const name = describeObject(object);
    const issues = [...schema[index]!, ...(options.policy !== false ? checkPolicy(object, { committed: options.committed }) : [])];
    for (const issue of issues) findings.push({ file: source, object: name, ...issue });
  });
  return findings;
}

export async function validateObjects(objects: readonly SourcedObject[], options: ValidateOptions): Promise<Finding[]> {
  return findingsOf(objects, await schemaIssues(objects), options);
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
}

/** Renders the sources (`concurrency` at a time), then checks all their objects with one kubeconform run. */
export async function validateSources(sources: readonly Source[], concurrency = 4): Promise<SourceResult[]> {
  const loaded: ({ objects: SourcedObject[] } | { error: Finding })[] = new Array(sources.length);
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const index = next++;
      const source = sources[index]!;
      try {
        loaded[index] = { objects: await source.load() };
      } catch (error) {
        const rule = error instanceof ManifestParseError ? "parse" : "render";
        loaded[index] = { error: { file: source.label, object: "-", path: "-", rule, message: (error as Error).message } };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, worker));
  const all = loaded.flatMap((item) => ("objects" in item ? item.objects : []));
  const schema = await schemaIssues(all);
  let offset = 0;
  return sources.map((source, index) => {
    const item = loaded[index]!;
    if ("error" in item) return { source, objects: 0, findings: [item.error] };
    const own = schema.slice(offset, offset + item.objects.length);
    offset += item.objects.length;
    return { source, objects: item.objects.length, findings: findingsOf(item.objects, own, { committed: source.committed }) };
  });
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
