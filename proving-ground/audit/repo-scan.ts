// Scans the repository for secret material. gitleaks does the text: every file
// Git tracks (or would track: untracked, not ignored) and every line of the
// history (a key deleted later is still in every clone), with its own rules
// plus ours in .gitleaks.toml (PEM keys, token formats, URLs with passwords).
// Our own code adds what gitleaks does not read: YAML and JSON files parsed,
// credential-named keys holding literal values (Orthanc's RegisteredUsers
// too) and committed Secrets with data — the validator's credential rule
// (proving-ground/validate/credentials.ts). The allow-list is .gitleaks.toml's,
// each entry with its reason; reviewed history findings are in .gitleaksignore.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { scanJson } from "../validate/credentials.ts";
import { allowedPathPatterns, runGitleaks, type GitleaksFinding } from "./gitleaks.ts";

export interface RepoHit {
  file: string;
  line: number;
  reason: string;
}

const reasonOf = (finding: GitleaksFinding) => `${finding.Description} (gitleaks rule ${finding.RuleID})`;

const structured = /\.(ya?ml|json)$/;

function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  return index < 0 ? 1 : text.slice(0, index).split("\n").length;
}

/** Our structured scan of one file (YAML/JSON); `name` is its path relative to the repository. */
export function scanFile(name: string, text: string): RepoHit[] {
  const hits: RepoHit[] = [];
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

/** One hit per file and line: gitleaks and our scan may both see a line (a `token:` key in YAML). */
function mergeByLine(hits: readonly RepoHit[]): RepoHit[] {
  const merged = new Map<string, RepoHit>();
  for (const hit of hits) {
    const key = `${hit.file}:${hit.line}`;
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, reason: `${seen.reason}; ${hit.reason}` } : hit);
  }
  return [...merged.values()];
}

export const isAllowed = (file: string, patterns = allowedPathPatterns()) => patterns.some((pattern) => pattern.test(file));

/** The files Git tracks, and untracked ones it does not ignore. */
async function repositoryFiles(root: string): Promise<string[]> {
  const { stdout } = await run("git", ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { silent: true });
  return stdout.split("\0").filter(Boolean);
}

/**
 * Every tracked file (and untracked, not ignored) of the repository: gitleaks over a copy of exactly
 * those files (its `dir` mode would also read ignored folders such as node_modules), then our structured scan.
 */
export async function scanRepository(root = repoRoot): Promise<RepoHit[]> {
  const patterns = allowedPathPatterns();
  const files: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "korthweb-repo-scan-"));
  try {
    for (const file of await repositoryFiles(root)) {
      try {
        mkdirSync(join(scratch, dirname(file)), { recursive: true });
        copyFileSync(join(root, file), join(scratch, file));
        files.push(file);
      } catch {
        // deleted in the work tree
      }
    }
    const hits = (await runGitleaks("dir", scratch)).map((finding) => ({ file: finding.File.replace(/^\.\//, ""), line: finding.StartLine, reason: reasonOf(finding) }));
    for (const file of files) {
      if (!structured.test(file) || isAllowed(file, patterns)) continue;
      const text = readFileSync(join(scratch, file), "utf8");
      if (!text.includes("\0")) hits.push(...scanFile(file, text));
    }
    return mergeByLine(hits);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every line added by any commit reachable from any ref: a hit names the commit (`file@commit`) and the line in that commit's version. */
export async function scanHistory(root = repoRoot): Promise<RepoHit[]> {
  const findings = await runGitleaks("git", root, ["--log-opts=--all"]);
  return findings.map((finding) => {
    const commit = finding.Commit.slice(0, 8);
    return { file: `${finding.File}@${commit}`, line: finding.StartLine, reason: `${reasonOf(finding)} (added in commit ${commit})` };
  });
}
