// Strict schema validation by kubeconform (pinned in pins.goTools, built by
// tasks/setup/go-tools.ts) against the schemas of kube-schemas.ts. Each object is
// written to a file of its own so that every result maps back to the object,
// and the file and object it came from; kubeconform's errors become findings
// with a JSON path: unknown fields, missing required fields, wrong types, bad
// enum values.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import { builtGoTool } from "../../tasks/lib/tools.ts";
import { pointerToPath, type Issue } from "./finding.ts";
import { schemaDir, schemaFileOf, schemaLocationTemplate } from "./kube-schemas.ts";

interface KubeconformResource {
  filename: string;
  status: string;
  msg?: string;
}


/** True when the schema folder has a schema for apiVersion/kind. */
export const hasSchema = (dir: string, apiVersion: string, kind: string) => existsSync(join(dir, schemaFileOf(apiVersion, kind)));

const quoted = (text: string) => [...text.matchAll(/'([^']*)'/g)].map((match) => match[1]!);

/** One kubeconform message about the value at `pointer` as findings in our terms. */
export function issuesOf(pointer: string, message: string, schemaName: string): Issue[] {
  const at = (suffix: string) => pointerToPath(`${pointer}/${suffix.replaceAll("~", "~0").replaceAll("/", "~1")}`);
  const unknown = /^additional propert(?:y|ies) (.*) not allowed$/.exec(message);
  if (unknown) return quoted(unknown[1]!).map((name) => ({ path: at(name), rule: "unknown-field", message: `unknown field "${name}" (not in the ${schemaName} schema)` }));
  const missing = /^missing propert(?:y|ies) (.*)$/.exec(message);
  if (missing) return quoted(missing[1]!).map((name) => ({ path: at(name), rule: "schema", message: "required field is missing" }));
  const type = /^got (\S+), want (.*)$/.exec(message);
  if (type) {
    const wanted = type[2]!.split(/,? or |, /).filter((item) => item !== "null");
    return [{ path: pointerToPath(pointer), rule: "schema", message: `must be ${wanted.join(" or ")} (got ${type[1]})` }];
  }
  const oneOf = /^value must be one of (.*)$/.exec(message);
  if (oneOf) return [{ path: pointerToPath(pointer), rule: "schema", message: `must be one of ${oneOf[1]!.replace(/, (null|<nil>)$/, "")}` }];
  return [{ path: pointerToPath(pointer), rule: "schema", message }];
}

/**
 * The leaf errors in kubeconform's message. Its `validationErrors` list only the first
 * level of the error tree (an "'allOf' failed" at /spec hides what failed inside), while
 * `msg` has the whole tree as "- at '<pointer>': <message>" segments.
 */
export function leafErrors(msg: string): { pointer: string; message: string }[] {
  const out: { pointer: string; message: string }[] = [];
  for (const match of msg.matchAll(/- at '([^']*)': (.*?)(?=\s+- at '|$)/g)) {
    const message = match[2]!.trim();
    if (/^'(allOf|anyOf|oneOf|\$ref)' failed$/.test(message)) continue;
    out.push({ pointer: match[1]!, message });
  }
  return out;
}

export interface SchemaInput {
  object: { apiVersion: string; kind: string } & Record<string, unknown>;
}

/** Validates the objects with one kubeconform run; returns the issues per object (same order). */
export async function kubeconformIssues(objects: readonly SchemaInput[], dir: string): Promise<Issue[][]> {
  const issues: Issue[][] = objects.map(() => []);
  if (objects.length === 0) return issues;
  const scratch = mkdtempSync(join(tmpdir(), "korthweb-kubeconform-"));
  try {
    objects.forEach(({ object }, i) => writeFileSync(join(scratch, `${i}.json`), JSON.stringify(object)));
    const args = ["-strict", "-output", "json", "-n", "2", "-schema-location", join(dir, schemaLocationTemplate), scratch];
    // kubeconform exits 1 when any object is invalid: the JSON report is what counts.
    const { stdout } = await run(builtGoTool("kubeconform"), args, { silent: true, allowFailure: true });
    const report = JSON.parse(stdout || "{}") as { resources?: KubeconformResource[] };
    for (const resource of report.resources ?? []) {
      const index = Number(/(\d+)\.json$/.exec(resource.filename)?.[1]);
      const object = objects[index]?.object;
      if (!object || resource.status === "statusValid" || resource.status === "statusSkipped") continue;
      const schemaName = `${object.apiVersion} ${object.kind}`;
      const leaves = leafErrors(resource.msg ?? "");
      if (leaves.length === 0) issues[index]!.push({ path: "(root)", rule: "schema", message: `kubeconform: ${resource.msg ?? resource.status}` });
      for (const leaf of leaves) issues[index]!.push(...issuesOf(leaf.pointer, leaf.message, schemaName));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return issues;
}

export { schemaDir };
