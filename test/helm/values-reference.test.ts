// docs/helm.md's values reference is generated from values.schema.json and
// values.yaml; it must be current, and the schema must describe every value
// that values.yaml sets (and nothing it does not).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { docsFile, referenceSection, renderReference, valueRows } from "../../tasks/helm/values-reference.ts";
import { chartDir } from "../helpers/chart.ts";

interface Node {
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
}

const schema = JSON.parse(readFileSync(`${chartDir}/values.schema.json`, "utf8")) as Node;
const values = parse(readFileSync(`${chartDir}/values.yaml`, "utf8")) as Record<string, unknown>;

describe("values reference in docs/helm.md", () => {
  it("is what values.schema.json and values.yaml generate (run: node tasks/helm/values-reference.ts --write)", () => {
    expect(referenceSection(readFileSync(docsFile, "utf8"))).toBe(renderReference());
  });

  it("has one row per value, each with a type, a default and a description", () => {
    const rows = valueRows(schema, values);
    expect(rows.length).toBeGreaterThan(80);
    for (const row of rows) {
      expect(row.description, row.path).not.toBe("");
      expect(row.default, `${row.path} has no default in values.yaml`).not.toBe("");
      expect(row.type, row.path).not.toBe("any");
    }
  });

  it("every schema node is described, and the schema has a node for every key values.yaml sets", () => {
    const undocumented: string[] = [];
    const walkSchema = (node: Node, path: string) => {
      if (path && !node.description) undocumented.push(path);
      for (const [name, child] of Object.entries(node.properties ?? {})) walkSchema(child, path ? `${path}.${name}` : name);
    };
    walkSchema(schema, "");
    expect(undocumented).toEqual([]);

    const paths = new Set(valueRows(schema, values).map((row) => row.path));
    const missing: string[] = [];
    const walkValues = (value: unknown, path: string) => {
      if (paths.has(path)) return; // a leaf (free-form maps and lists included)
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [name, child] of Object.entries(value)) walkValues(child, path ? `${path}.${name}` : name);
      } else {
        missing.push(path);
      }
    };
    walkValues(values, "");
    expect(missing).toEqual([]);
  });
});
