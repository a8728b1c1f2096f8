// Generates a chart's values.schema.json from its annotated values.yaml
// (values-annotations.ts). Our own code because no schema generator is
// installable here: helm-schema (dadav) and helm-values-schema-json (losisin)
// are not served by the Go module proxy, and no maintained npm package reads
// helm-docs' "# --" comments. What it does, per key:
//   - type from the default value (string, integer, number, boolean, object, array;
//     an array of one scalar type gets that type as `items`);
//   - an object's properties from its keys, closed (`additionalProperties: false`)
//     unless its @schema block sets additionalProperties (a free-form map): then
//     the default's keys are examples, not properties; an empty map stays open
//     unless annotated;
//   - the "# --" description, then the @schema keywords over all of that.
// A new key needs a "# --" description; constraints (enum, pattern, minimum,
// required on the parent) go in its @schema block.
//   node tasks/helm/values-schema.ts [--write] [--chart helm/orthanc]
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { fromRoot } from "../lib/paths.ts";
import { pathKey, readAnnotations, type Annotations } from "./values-annotations.ts";

export type Schema = Record<string, unknown>;

const isMap = (value: unknown): value is Record<string, unknown> => !!value && typeof value === "object" && !Array.isArray(value);

function typeOf(value: unknown): string | undefined {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (Array.isArray(value)) return "array";
  if (isMap(value)) return "object";
  return undefined;
}

/** What the default value alone says about a key's schema (no annotations). */
export function inferredSchema(value: unknown): Schema {
  const type = typeOf(value);
  const schema: Schema = type ? { type } : {};
  if (Array.isArray(value) && value.length > 0) {
    const types = new Set(value.map(typeOf));
    const [only] = types;
    if (types.size === 1 && only && only !== "object" && only !== "array") schema.items = { type: only };
  }
  return schema;
}

function schemaFor(value: unknown, path: string[], annotations: Annotations, missing: string[]): Schema {
  const annotation = annotations.byPath.get(pathKey(path));
  if (path.length && !annotation?.description) missing.push(pathKey(path));
  const extra = annotation?.schema ?? {};
  const schema: Schema = { ...(annotation?.description ? { description: annotation.description } : {}), ...inferredSchema(value) };
  const freeForm = extra.additionalProperties !== undefined && extra.additionalProperties !== false;
  // An empty map says nothing about its keys: it stays open unless annotated.
  if (isMap(value) && Object.keys(value).length > 0 && !freeForm) {
    const properties: Record<string, Schema> = {};
    for (const [key, child] of Object.entries(value)) properties[key] = schemaFor(child, [...path, key], annotations, missing);
    schema.additionalProperties = false;
    schema.properties = properties;
  }
  for (const [keyword, setting] of Object.entries(extra)) {
    // Properties the default does not set (optional keys) join the inferred ones.
    if (keyword === "properties" && isMap(setting) && isMap(schema.properties)) schema.properties = { ...schema.properties, ...setting };
    else schema[keyword] = setting;
  }
  return schema;
}

export interface GeneratedSchema {
  schema: Schema;
  /** Keys without a "# --" description. */
  undescribed: string[];
}

export function generateSchema(valuesText: string, file = "values.yaml"): GeneratedSchema {
  const annotations = readAnnotations(valuesText, file);
  const undescribed: string[] = [];
  const body = schemaFor(parse(valuesText) ?? {}, [], annotations, undescribed);
  const schema: Schema = { $schema: "http://json-schema.org/draft-07/schema#", ...annotations.root, ...body };
  for (const [keyword, setting] of Object.entries(annotations.root)) schema[keyword] = setting;
  return { schema, undescribed };
}

export const schemaText = (schema: Schema) => `${JSON.stringify(schema, null, 2)}\n`;

export function chartSchema(chartDir = fromRoot("helm", "orthanc")): GeneratedSchema {
  const file = join(chartDir, "values.yaml");
  return generateSchema(readFileSync(file, "utf8"), file);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { write: { type: "boolean" }, chart: { type: "string" } } });
  const chartDir = values.chart ? fromRoot(values.chart) : fromRoot("helm", "orthanc");
  const { schema, undescribed } = chartSchema(chartDir);
  if (undescribed.length) {
    process.stderr.write(`values.yaml keys without a "# --" description: ${undescribed.join(", ")}\n`);
    process.exitCode = 1;
  }
  if (values.write) writeFileSync(join(chartDir, "values.schema.json"), schemaText(schema));
  else process.stdout.write(schemaText(schema));
}
