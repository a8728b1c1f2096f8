// Reads configuration text as data, so the credential scan can look at its
// keys: JSON, YAML, and key=value text (.properties, .ini, .env, TOML-like
// files, libpq/JDBC connection strings). Scripts and free text give undefined.
import { parseAllDocuments } from "yaml";

/** File extensions whose key=value lines are read even when other lines are not key=value. */
const pairFiles = /\.(properties|ini|env|conf|cfg|cnf|toml)$/i;

// Keys may come as command-line options too: -Ddb.password=… (Java), --password=….
const lineShape = /^(?:export\s+)?(-{0,2}[A-Za-z_][\w.-]*)\s*[=:]\s*(.*)$/;
const inlinePair = /(?:^|[\s;&?,])(-{0,2}[A-Za-z_][\w.-]*)\s*=\s*("[^"]*"|'[^']*'|[^\s;&,]*)/g;
const keyOf = (option: string) => option.replace(/^(-D|--?)/, "");
const section = /^\[([^\]]+)\]$/;
const unquote = (value: string) => value.replace(/^(["'])(.*)\1$/, "$2");
const firstToken = (rest: string) => unquote(/^("[^"]*"|'[^']*'|[^\s;&,]*)/.exec(rest)?.[1] ?? "");

/**
 * The text as data, or undefined when it is none of the formats.
 * `name` is the file name (a ConfigMap key) or variable name: its extension decides
 * how leniently key=value text is read.
 */
export function readConfigText(name: string, text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      // an .ini section header, or not JSON after all: try the other formats
    }
  }
  return readYaml(text) ?? readPairs(text, pairFiles.test(name));
}

/** YAML that parses cleanly into mappings or lists (a plain string is not configuration). */
function readYaml(text: string): unknown {
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [];
  if (list.length === 0 || list.some((document) => document.errors.length > 0)) return undefined;
  const values = list.map((document) => document.toJS() as unknown).filter((value) => value !== null && typeof value === "object");
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

/**
 * key=value lines, grouped by [section]; several pairs on one line (host=db password=x) all count.
 * Strict (no extension hint): every line that is not blank or a comment must be key=value,
 * so scripts (`password = os.environ[...]` among other code) are not read as configuration.
 */
function readPairs(text: string, lenient: boolean): Record<string, unknown> | undefined {
  const data: Record<string, unknown> = {};
  let target = data;
  let found = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = section.exec(line);
    if (header) {
      target = {};
      data[header[1]!.trim()] = target;
      continue;
    }
    const match = lineShape.exec(line);
    if (!match) {
      if (lenient) continue;
      return undefined;
    }
    found = true;
    target[keyOf(match[1]!)] = firstToken(match[2]!);
    for (const pair of match[2]!.matchAll(inlinePair)) target[keyOf(pair[1]!)] = unquote(pair[2]!);
  }
  return found ? data : undefined;
}
