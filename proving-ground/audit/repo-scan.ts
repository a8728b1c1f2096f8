// Scans every file tracked by Git for secret material: private keys, known
// token formats, URLs with passwords, and credential-named keys holding
// literal values in YAML/JSON; and every line ever added in the history, for
// the text patterns (a key deleted later is still in every clone). Deliberately
// bad test fixtures are allowed by an explicit list, each entry with its reason.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { scanJson } from "../validate/credentials.ts";

export interface RepoHit {
  file: string;
  line: number;
  reason: string;
}

/** Paths (prefix match) allowed to hold fake secrets, and why. */
export const allowedSecretFiles: Record<string, string> = {
  "test/fixtures/validate/bad/": "known-bad fixtures that prove the validator catches credentials; the values are fake",
};

/** History hits (`file@commit`) reviewed and found harmless: history cannot be rewritten once landed. */
export const allowedHistoryHits: Record<string, string> = {
  "test/gitops/install-tasks.test.ts@58d9de88": "a made-up me:secret URL that a test feeds to --url to prove it is refused; now assembled at run time",
};

const textPatterns: { pattern: RegExp; reason: string }[] = [
  { pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, reason: "PEM private key" },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/, reason: "AWS access key id" },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/, reason: "GitHub token" },
  { pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/, reason: "Slack token" },
  { pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, reason: "JSON Web Token" },
  { pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"`$<>{}]+:[^\s/@'"`$<>{}]{3,}@[\w.-]+/i, reason: "URL with a password (user:password@host)" },
];

const structured = /\.(ya?ml|json)$/;

function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  return index < 0 ? 1 : text.slice(0, index).split("\n").length;
}

/** Scan one file's text; `name` is its path relative to the repository. */
export function scanFile(name: string, text: string): RepoHit[] {
  const hits: RepoHit[] = [];
  text.split("\n").forEach((content, i) => {
    for (const { pattern, reason } of textPatterns) if (pattern.test(content)) hits.push({ file: name, line: i + 1, reason });
  });
  if (structured.test(name)) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) continue;
      const value: unknown = doc.toJS();
      const kind = value && typeof value === "object" ? (value as { kind?: unknown }).kind : undefined;
      // Secret objects in Git are their own finding (data is base64, so the key names say little).
      if (kind === "Secret") {
        const secret = value as { data?: Record<string, unknown>; stringData?: Record<string, unknown> };
        if (Object.values({ ...secret.data, ...secret.stringData }).some((v) => typeof v === "string" && v !== "")) {
          hits.push({ file: name, line: lineOf(text, "kind: Secret"), reason: "a Secret with data is committed" });
        }
        continue;
      }
      for (const hit of scanJson(value, "")) {
        const key = hit.path.split(".").at(-1) ?? hit.path;
        hits.push({ file: name, line: lineOf(text, `${key}:`), reason: `${hit.path}: ${hit.reason}` });
      }
    }
  }
  return hits;
}

export const isAllowed = (file: string) => Object.keys(allowedSecretFiles).some((prefix) => file.startsWith(prefix));

/** Files neither scan reads: the allow-listed fixtures, and the lockfile (integrity hashes look like tokens). */
const isSkipped = (file: string) => isAllowed(file) || file === "package-lock.json";

/** Every tracked file (and untracked, not ignored) of the repository, except the allow-listed ones. */
export async function scanRepository(root = repoRoot): Promise<RepoHit[]> {
  const { stdout } = await run("git", ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { silent: true });
  const hits: RepoHit[] = [];
  for (const file of stdout.split("\0").filter(Boolean)) {
    if (isSkipped(file)) continue;
    let text: string;
    try {
      text = readFileSync(join(root, file), "utf8");
    } catch {
      continue; // deleted in the work tree
    }
    if (text.includes("\0")) continue; // binary
    hits.push(...scanFile(file, text));
  }
  return hits;
}

/**
 * Every line added by any commit reachable from any ref, checked against the text patterns; a hit
 * names the commit (`file@commit`) and the line in that commit's version of the file.
 */
export async function scanHistory(root = repoRoot): Promise<RepoHit[]> {
  const { stdout } = await run("git", ["-C", root, "log", "--all", "-p", "--no-color", "--no-ext-diff", "--unified=0", "--format=commit %H"], { silent: true });
  const hits: RepoHit[] = [];
  let commit = "";
  let file = "";
  let line = 0;
  for (const text of stdout.split("\n")) {
    if (text.startsWith("commit ")) commit = text.slice(7, 15);
    else if (text.startsWith("+++ ")) file = text.startsWith("+++ b/") ? text.slice(6) : "";
    else if (text.startsWith("@@")) line = Number(/\+(\d+)/.exec(text)?.[1] ?? 0);
    else if (text.startsWith("+") && file) {
      const where = `${file}@${commit}`;
      if (!isSkipped(file) && !(where in allowedHistoryHits)) {
        for (const { pattern, reason } of textPatterns) if (pattern.test(text.slice(1))) hits.push({ file: where, line, reason: `${reason} (added in commit ${commit})` });
      }
      line++;
    }
  }
  return hits;
}
