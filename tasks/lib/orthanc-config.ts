// orthanc.json as the chart renders it is a template: Orthanc replaces each
// ${VAR} (or ${VAR:-default}) with the environment's value, as text, before
// parsing the JSON. A reference may stand bare where a number belongs
// ("Port": ${PG_PORT}), so the text is not JSON yet. These functions read such
// a template without resolving it (bare references become marked strings),
// change it, and write it back with every reference where it was — so the
// file Orthanc reads still takes its secrets from the environment.
import { TaskError } from "./errors.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const reference = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:"[^"]*")|(?:'[^']*')|[^}]*))?\}/g;
// A bare reference is held in a JSON string as NUL + "bare:" + reference + NUL; NUL never occurs in Orthanc configuration.
const bareMark = (text: string) => `\u0000bare:${text}\u0000`;
const bareMarkInJson = /"\\u0000bare:(\$\{[^"\\]*\})\\u0000"/g;

/** Parses the template; bare ${VAR} references become marked strings. */
export function parseTemplate(text: string, source: string): JsonObject {
  let masked = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (inString) {
      masked += char;
      if (char === "\\") masked += text[++i] ?? "";
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') {
      inString = true;
      masked += char;
      continue;
    }
    if (char === "$" && text[i + 1] === "{") {
      reference.lastIndex = i;
      const match = reference.exec(text);
      if (match && match.index === i) {
        masked += JSON.stringify(bareMark(match[0]));
        i += match[0].length - 1;
        continue;
      }
    }
    masked += char;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(masked);
  } catch (error) {
    throw new TaskError(`${source} is not valid JSON (with its \${VAR} references set aside): ${(error as Error).message}`, {
      code: "invalidValues",
      hint: "render the chart (helm template) and read orthanc.json in its ConfigMap",
    });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TaskError(`${source} is not a JSON object`, { code: "invalidValues" });
  }
  return parsed as JsonObject;
}

/** Writes a template back: marked strings become bare references again. */
export function stringifyTemplate(config: JsonObject): string {
  return `${JSON.stringify(config, null, 2).replace(bareMarkInJson, (_all, ref: string) => ref)}\n`;
}

/** Orthanc's substitution: ${VAR} is the variable's value or empty; ${VAR:-default} falls back to the default (quotes removed). */
export function substitute(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(reference, (_all, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined && (value !== "" || fallback === undefined)) return value;
    if (fallback === undefined) return "";
    return /^(".*"|'.*')$/.test(fallback) ? fallback.slice(1, -1) : fallback;
  });
}

/** The configuration as Orthanc will see it: substituted, then parsed. */
export function resolveTemplate(text: string, env: Readonly<Record<string, string | undefined>>, source: string): JsonObject {
  const resolved = substitute(text, env);
  try {
    const parsed = JSON.parse(resolved) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as JsonObject;
  } catch (error) {
    throw new TaskError(`${source} is not valid JSON once its \${VAR} references are replaced: ${(error as Error).message}`, {
      code: "invalidValues",
      hint: "a value with a quote or backslash breaks Orthanc's textual substitution; check the env values the Deployment sets",
    });
  }
  throw new TaskError(`${source} is not a JSON object once substituted`, { code: "invalidValues" });
}

/** The names of all ${VAR} references in the text. */
export function referencedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(reference)].map((match) => match[1]!))];
}

const isObject = (value: Json | undefined): value is JsonObject => value !== null && typeof value === "object" && !Array.isArray(value);

/** A copy of `base` with `overlay` applied: objects merge key by key, anything else replaces. */
export function applyOverlay(base: JsonObject, overlay: JsonObject): JsonObject {
  const out: JsonObject = structuredClone(base);
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? applyOverlay(current, value) : structuredClone(value);
  }
  return out;
}

/** Leaf paths ("PostgreSQL.Port", "Plugins") where two configurations differ; arrays compare whole. */
export function differingPaths(a: Json | undefined, b: Json | undefined, path = ""): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => differingPaths(a[key], b[key], path ? `${path}.${key}` : key));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}

/** Leaf paths an overlay sets (the paths it is allowed to change). */
export function overlayPaths(overlay: JsonObject, path = ""): string[] {
  return Object.entries(overlay).flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    return isObject(value) ? overlayPaths(value, here) : [here];
  });
}
