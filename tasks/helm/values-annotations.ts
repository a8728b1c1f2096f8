// Reads the annotations of a chart's values.yaml: the comment block above each
// key. Two kinds, in the layout helm-docs and helm-schema use, so one file feeds
// both the values reference (helm-docs) and values.schema.json (values-schema.ts):
//
//   # @schema
//   # pattern: ^[a-z]+$          JSON Schema keywords for this key, as YAML
//   # @schema
//   # -- What the key does.      the description (helm-docs' "# --"), to the key
//   key: value
//
// A `# @schema.root` … `# @schema.root` block anywhere at the top level gives
// keywords for the schema's root (definitions, required, title).
// Keys are found by indentation; keys inside list items belong to the list's
// `items` and take no annotations of their own.
import { parse } from "yaml";

export interface Annotation {
  /** JSON Schema keywords from the @schema block. */
  schema?: Record<string, unknown>;
  /** The "# --" description, its lines joined by spaces. */
  description?: string;
}

export interface Annotations {
  /** By dotted key path ("image.tag"); a key containing a dot is written ["a.b"]. */
  byPath: Map<string, Annotation>;
  root: Record<string, unknown>;
}

export const pathKey = (path: readonly string[]) => path.map((key) => (key.includes(".") ? `["${key}"]` : key)).join(".");

const keyLine = /^(\s*)(-\s+)?("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"][^:#]*?)\s*:(?:\s|$)/;
const listLine = /^(\s*)-(?:\s|$)/;
const unquote = (key: string) => (/^["']/.test(key) ? (parse(key) as string) : key);

/** The YAML inside a block of comment lines between two `marker` lines, or undefined. */
function block(lines: readonly string[], marker: string, where: string): { value: Record<string, unknown>; rest: string[] } | undefined {
  const start = lines.findIndex((line) => line.trim() === marker);
  if (start < 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && line.trim() === marker);
  if (end < 0) throw new Error(`${where}: "${marker}" opened but not closed by another "${marker}" line`);
  const yamlText = lines.slice(start + 1, end).map((line) => line.replace(/^\s*# ?/, "")).join("\n");
  let value: unknown;
  try {
    value = parse(yamlText);
  } catch (error) {
    throw new Error(`${where}: the ${marker} block is not YAML: ${(error as Error).message}`);
  }
  if (value !== null && (typeof value !== "object" || Array.isArray(value))) throw new Error(`${where}: the ${marker} block must hold JSON Schema keywords (a YAML map)`);
  return { value: (value ?? {}) as Record<string, unknown>, rest: [...lines.slice(0, start), ...lines.slice(end + 1)] };
}

function annotationOf(comments: readonly string[], where: string): Annotation {
  const schemaBlock = block(comments, "# @schema", where);
  const rest = schemaBlock?.rest ?? [...comments];
  const start = rest.findIndex((line) => /^\s*# -- ?/.test(line));
  const description =
    start < 0
      ? undefined
      : rest
          .slice(start)
          .map((line, i) => line.replace(i === 0 ? /^\s*# -- ?/ : /^\s*# ?/, "").trim())
          .filter(Boolean)
          .join(" ");
  return { ...(schemaBlock ? { schema: schemaBlock.value } : {}), ...(description ? { description } : {}) };
}

export function readAnnotations(text: string, file = "values.yaml"): Annotations {
  const byPath = new Map<string, Annotation>();
  let root: Record<string, unknown> = {};
  const stack: { indent: number; key: string }[] = [];
  /** Indent of the innermost list marker: deeper keys are inside list items. */
  let listIndent = -1;
  let pending: string[] = [];
  text.split("\n").forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    if (/^\s*#/.test(line)) {
      pending.push(line);
      const rootBlock = pending.filter((item) => item.trim() === "# @schema.root").length === 2 ? block(pending, "# @schema.root", where) : undefined;
      if (rootBlock) {
        root = { ...root, ...rootBlock.value };
        pending = rootBlock.rest;
      }
      return;
    }
    if (line.trim() === "") {
      if (!pending.some((item) => item.trim() === "# @schema.root")) pending = [];
      return;
    }
    const indent = line.length - line.trimStart().length;
    if (listIndent >= 0 && indent <= listIndent && !listLine.test(line)) listIndent = -1;
    const list = listLine.exec(line);
    const match = keyLine.exec(line);
    if (list && (listIndent < 0 || indent < listIndent)) listIndent = indent;
    if (!match || match[2] || (listIndent >= 0 && indent > listIndent) || list) {
      pending = [];
      return;
    }
    while (stack.length && stack.at(-1)!.indent >= indent) stack.pop();
    stack.push({ indent, key: unquote(match[3]!) });
    const annotation = annotationOf(pending, where);
    if (annotation.schema || annotation.description) byPath.set(pathKey(stack.map((item) => item.key)), annotation);
    pending = [];
  });
  return { byPath, root };
}
