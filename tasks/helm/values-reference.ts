// The values reference of docs/helm.md, generated from the chart's
// values.schema.json (descriptions, types) and values.yaml (defaults), so the
// three cannot drift apart: a test compares this output with the docs.
//   node tasks/helm/values-reference.ts          print the table
//   node tasks/helm/values-reference.ts --write  rewrite it in docs/helm.md
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";
import { TaskError } from "../lib/errors.ts";
import { fromRoot } from "../lib/paths.ts";

interface SchemaNode {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
}

export const docsFile = fromRoot("docs", "helm.md");
export const markers = { start: "<!-- values-reference:start (generated: node tasks/helm/values-reference.ts --write) -->", end: "<!-- values-reference:end -->" };

export interface ValueRow {
  path: string;
  type: string;
  default: string;
  description: string;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as SchemaNode;

/** One row per leaf of the schema (a value without sub-properties), in schema order. */
export function valueRows(schema: SchemaNode, values: unknown): ValueRow[] {
  const rows: ValueRow[] = [];
  const walk = (node: SchemaNode, path: string[], value: unknown) => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const childValue = value && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
      const childPath = [...path, name];
      if (child.properties) {
        walk(child, childPath, childValue);
        continue;
      }
      const types = [child.type ?? "any"].flat().join(" or ");
      rows.push({
        path: childPath.join("."),
        type: child.enum ? `${types}: ${child.enum.map((item) => String(item)).join(", ")}` : types,
        default: childValue === undefined ? "" : JSON.stringify(childValue),
        description: child.description ?? "",
      });
    }
  };
  walk(schema, [], values);
  return rows;
}

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

export function renderReference(chartDir = fromRoot("helm", "orthanc")): string {
  const schema = readJson(`${chartDir}/values.schema.json`);
  const values = parse(readFileSync(`${chartDir}/values.yaml`, "utf8")) as unknown;
  const lines = ["| value | type | default | description |", "| --- | --- | --- | --- |"];
  for (const row of valueRows(schema, values)) {
    lines.push(`| \`${row.path}\` | ${cell(row.type)} | ${row.default ? `\`${cell(row.default)}\`` : ""} | ${cell(row.description)} |`);
  }
  return lines.join("\n");
}

/** The part of a document between the markers, or undefined when they are missing. */
export function referenceSection(doc: string): string | undefined {
  const start = doc.indexOf(markers.start);
  const end = doc.indexOf(markers.end);
  if (start < 0 || end < start) return undefined;
  return doc.slice(start + markers.start.length, end).trim();
}

export function writeReference(path = docsFile): void {
  const doc = readFileSync(path, "utf8");
  if (referenceSection(doc) === undefined) throw new TaskError(`${path} has no values-reference markers`, { hint: `add the lines ${markers.start} and ${markers.end}` });
  const start = doc.indexOf(markers.start) + markers.start.length;
  writeFileSync(path, `${doc.slice(0, start)}\n${renderReference()}\n${doc.slice(doc.indexOf(markers.end))}`);
}

if (import.meta.main) {
  if (process.argv.includes("--write")) writeReference();
  else process.stdout.write(`${renderReference()}\n`);
}
