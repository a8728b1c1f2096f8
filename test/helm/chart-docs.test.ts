// helm/orthanc's values.schema.json and README.md (the values reference) are
// generated from the annotated values.yaml (make chart-docs): they must be
// current, every key must be described, and the generator must carry the
// constraints an annotation states, and refuse a key without a description.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../../tasks/helm/chart-docs.ts";
import { generateSchema } from "../../tasks/helm/values-schema.ts";
import { chartDir } from "../helpers/chart.ts";

interface Node {
  description?: string;
  type?: unknown;
  properties?: Record<string, Node>;
}

describe("generated chart files", () => {
  it("values.schema.json and README.md are what make chart-docs generates from values.yaml", async () => {
    for (const file of await generatedFiles()) expect(readFileSync(file.path, "utf8"), `${file.path} is stale: run make chart-docs`).toBe(file.text);
  });

  it("every schema node is described and typed (more than 80 values)", () => {
    const schema = JSON.parse(readFileSync(`${chartDir}/values.schema.json`, "utf8")) as Node;
    const problems: string[] = [];
    let leaves = 0;
    const walk = (node: Node, path: string) => {
      if (path && !node.description) problems.push(`${path}: no description`);
      if (path && node.type === undefined && !("allOf" in node)) problems.push(`${path}: no type`);
      const children = Object.entries(node.properties ?? {});
      if (children.length === 0) leaves++;
      for (const [name, child] of children) walk(child, path ? `${path}.${name}` : name);
    };
    walk(schema, "");
    expect(problems).toEqual([]);
    expect(leaves).toBeGreaterThan(80);
  });
});

describe("the schema generator", () => {
  const values = [
    "# @schema.root",
    "# title: demo",
    "# @schema.root",
    "",
    "# @schema",
    "# required: [mode]",
    "# @schema",
    "# -- TLS settings.",
    "tls:",
    "  # @schema",
    "  # enum: [generate, existingSecret]",
    "  # @schema",
    "  # -- Where the certificate comes from,",
    "  # over two lines.",
    "  mode: generate",
    "  # @schema",
    "  # minimum: 1",
    "  # @schema",
    "  # -- Days.",
    "  days: 30",
    "# @schema",
    "# additionalProperties: { type: string }",
    "# @schema",
    "# -- Free-form labels; the default's keys are examples.",
    "labels:",
    "  app: demo",
    "# -- Plugins.",
    "plugins:",
    "  - a.so",
    "",
  ].join("\n");

  it("types from defaults, closed objects, descriptions, and the @schema keywords", () => {
    const { schema, undescribed } = generateSchema(values);
    expect(undescribed).toEqual([]);
    expect(schema).toEqual({
      $schema: "http://json-schema.org/draft-07/schema#",
      title: "demo",
      type: "object",
      additionalProperties: false,
      properties: {
        tls: {
          description: "TLS settings.",
          type: "object",
          additionalProperties: false,
          required: ["mode"],
          properties: {
            mode: { description: "Where the certificate comes from, over two lines.", type: "string", enum: ["generate", "existingSecret"] },
            days: { description: "Days.", type: "integer", minimum: 1 },
          },
        },
        labels: { description: "Free-form labels; the default's keys are examples.", type: "object", additionalProperties: { type: "string" } },
        plugins: { description: "Plugins.", type: "array", items: { type: "string" } },
      },
    });
  });

  it("names a key without a description, and an unclosed @schema block by line", () => {
    expect(generateSchema("# -- ok\na: 1\nb: 2\n").undescribed).toEqual(["b"]);
    expect(() => generateSchema("# @schema\n# minimum: 1\na: 1\n", "values.yaml")).toThrow(/values\.yaml:3: "# @schema" opened but not closed/);
  });
});

describe("annotate-values (moving a hand-written schema into values.yaml)", () => {
  it("annotates the keys without a description so that the generator gives the schema back", async () => {
    const { annotate, differences } = await import("../../tasks/helm/annotate-values.ts");
    const values = "# header\ntls:\n  mode: generate\n  days: 30\nlabels:\n  app: demo\nplugins:\n  - a.so\n";
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      title: "demo",
      type: "object",
      additionalProperties: false,
      properties: {
        tls: {
          description: "TLS settings.",
          type: "object",
          additionalProperties: false,
          required: ["mode"],
          properties: {
            mode: { description: "Where the certificate comes from.", type: "string", enum: ["generate", "existingSecret"] },
            days: { description: "Days.", type: "integer", minimum: 1 },
            secretName: { description: "Optional, no default.", type: "string" },
          },
        },
        labels: { description: "Free-form labels.", type: "object", additionalProperties: { type: "string" } },
        plugins: { description: "Plugins.", type: "array", items: { type: "string" } },
      },
    };
    const annotated = annotate(values, schema);
    const { schema: generated, undescribed } = generateSchema(annotated);
    expect(undescribed).toEqual([]);
    expect(differences(JSON.parse(JSON.stringify(generated)), schema)).toEqual([]);
    expect(annotate(annotated, schema)).toBe(annotated);
  });
});
