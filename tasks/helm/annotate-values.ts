// Moves a hand-written values.schema.json into values.yaml annotations, once:
// for every key of values.yaml that has no "# --" description yet, writes the
// description and a "# @schema" block with the keywords the generator cannot
// infer from the default (values-schema.ts), and refreshes the root block. Then
// it checks that the generator gives back the same schema and names any key
// where it does not. For merging work that still edits values.schema.json by hand.
//   node tasks/helm/annotate-values.ts --from-schema FILE [--chart helm/orthanc]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual, parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { fromRoot } from "../lib/paths.ts";
import { pathKey, readAnnotations } from "./values-annotations.ts";
import { generateSchema, inferredSchema, type Schema } from "./values-schema.ts";

const isMap = (value: unknown): value is Schema => !!value && typeof value === "object" && !Array.isArray(value);
const keyLine = /^(\s*)(-\s+)?("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"][^:#]*?)\s*:(?:\s|$)/;
const listLine = /^(\s*)-(?:\s|$)/;

/** The keywords of `given` that the generator would not produce from `value` alone. */
export function extraKeywords(given: Schema, value: unknown): Schema {
  const inferred = inferredSchema(value);
  const freeForm = given.additionalProperties !== undefined && given.additionalProperties !== false;
  if (isMap(value) && Object.keys(value).length && !freeForm) inferred.additionalProperties = false;
  const extra: Schema = {};
  for (const [keyword, setting] of Object.entries(given)) {
    if (keyword === "description") continue;
    if (keyword === "properties") {
      if (freeForm || !isMap(value)) extra.properties = setting;
      else {
        const optional = Object.fromEntries(Object.entries(setting as Schema).filter(([name]) => !(name in value)));
        if (Object.keys(optional).length) extra.properties = optional;
      }
    } else if (!isDeepStrictEqual(setting, inferred[keyword])) extra[keyword] = setting;
  }
  return extra;
}

const commentLines = (prefix: string, data: Schema) => stringify(data, { lineWidth: 0 }).trimEnd().split("\n").map((line) => `${prefix}${line}`.trimEnd());

function descriptionLines(prefix: string, text: string, width = 110): string[] {
  const lines: string[] = [];
  let line = `${prefix}--`;
  for (const word of text.split(/\s+/)) {
    if (line.length + word.length + 1 > width && line.trim() !== "# --") {
      lines.push(line);
      line = prefix.trimEnd();
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

export function annotate(valuesText: string, schema: Schema): string {
  const values = parse(valuesText) as unknown;
  const existing = readAnnotations(valuesText).byPath;
  const nodeAt = (path: string[]) => path.reduce<Schema | undefined>((node, key) => (node?.properties as Record<string, Schema> | undefined)?.[key], schema);
  const valueAt = (path: string[]) => path.reduce<unknown>((node, key) => (isMap(node) ? node[key] : undefined), values);
  const rootExtra = Object.fromEntries(Object.entries(schema).filter(([keyword]) => !["properties", "type", "additionalProperties", "description"].includes(keyword)));
  const out: string[] = [];
  const stack: { indent: number; key: string }[] = [];
  let listIndent = -1;
  let inRootBlock = false;
  let rootWritten = false;
  const writeRoot = () => {
    out.push("# @schema.root", ...commentLines("# ", rootExtra), "# @schema.root");
    rootWritten = true;
  };
  for (const line of valuesText.split("\n")) {
    if (line.trim() === "# @schema.root") {
      if (!inRootBlock && !rootWritten) writeRoot();
      inRootBlock = !inRootBlock;
      continue;
    }
    if (inRootBlock) continue;
    if (!rootWritten && line.trim() !== "" && !line.startsWith("#")) {
      writeRoot();
      out.push("");
    }
    const indent = line.length - line.trimStart().length;
    if (line.trim() === "" || line.trim().startsWith("#")) {
      out.push(line);
      continue;
    }
    if (listIndent >= 0 && indent <= listIndent && !listLine.test(line)) listIndent = -1;
    const list = listLine.exec(line);
    const match = keyLine.exec(line);
    if (list && (listIndent < 0 || indent < listIndent)) listIndent = indent;
    if (!match || match[2] || (listIndent >= 0 && indent > listIndent) || list) {
      out.push(line);
      continue;
    }
    while (stack.length && stack.at(-1)!.indent >= indent) stack.pop();
    stack.push({ indent, key: /^["']/.test(match[3]!) ? (parse(match[3]!) as string) : match[3]! });
    const path = stack.map((item) => item.key);
    const given = nodeAt(path);
    if (given && !existing.get(pathKey(path))?.description) {
      const prefix = `${" ".repeat(indent)}# `;
      const extra = extraKeywords(given, valueAt(path));
      if (Object.keys(extra).length) out.push(`${prefix}@schema`, ...commentLines(prefix, extra), `${prefix}@schema`);
      if (typeof given.description === "string") out.push(...descriptionLines(prefix, given.description));
    }
    out.push(line);
  }
  return out.join("\n");
}

/** Key paths where the generated schema differs from `given`. */
export function differences(generated: unknown, given: unknown, path = "(root)"): string[] {
  if (isDeepStrictEqual(generated, given)) return [];
  if (!isMap(generated) || !isMap(given)) return [path];
  const keys = new Set([...Object.keys(generated), ...Object.keys(given)]);
  return [...keys].flatMap((key) => differences(generated[key], given[key], key === "properties" ? path : `${path}.${key}`));
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { "from-schema": { type: "string" }, chart: { type: "string" } } });
  if (!values["from-schema"]) {
    process.stderr.write("usage: node tasks/helm/annotate-values.ts --from-schema FILE [--chart helm/orthanc]\n");
    process.exit(2);
  }
  const chartDir = values.chart ? fromRoot(values.chart) : fromRoot("helm", "orthanc");
  const given = JSON.parse(readFileSync(values["from-schema"], "utf8")) as Schema;
  const file = join(chartDir, "values.yaml");
  const text = annotate(readFileSync(file, "utf8"), given);
  writeFileSync(file, text);
  const { schema, undescribed } = generateSchema(text, file);
  const diff = differences(JSON.parse(JSON.stringify(schema)), given);
  process.stdout.write(`${file} annotated; generated schema ${diff.length ? `differs at: ${diff.join(", ")}` : "equals the given one"}\n`);
  if (undescribed.length) process.stdout.write(`keys without a description: ${undescribed.join(", ")}\n`);
  process.exitCode = diff.length || undescribed.length ? 1 : 0;
}
