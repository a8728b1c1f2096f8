// Runs gitleaks (pinned in pins.goTools, built by tasks/setup/go-tools.ts) with
// this repository's .gitleaks.toml (its rules and allow-list) and .gitleaksignore
// (reviewed history findings), over a folder or a Git history, and returns its
// findings. Secrets are redacted in gitleaks' report: we only need where they are.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { builtGoTool } from "../../tasks/lib/tools.ts";

export interface GitleaksFinding {
  RuleID: string;
  Description: string;
  File: string;
  StartLine: number;
  Commit: string;
}

export const gitleaksConfig = fromRoot(".gitleaks.toml");


/** `gitleaks dir .` or `gitleaks git .` in `cwd`; exit 1 means findings, anything else is a failure. */
export async function runGitleaks(mode: "dir" | "git", cwd: string, extra: readonly string[] = []): Promise<GitleaksFinding[]> {
  const scratch = mkdtempSync(join(tmpdir(), "korthweb-gitleaks-"));
  const report = join(scratch, "report.json");
  try {
    const args = [mode, ".", ...extra, "--no-banner", "--redact", "--log-level", "error", "-c", gitleaksConfig, "-i", fromRoot(), "-f", "json", "-r", report];
    const result = await run(builtGoTool("gitleaks"), args, { cwd, silent: true, allowFailure: true });
    if (result.exitCode !== 0 && result.exitCode !== 1) throw new TaskError(`gitleaks ${mode} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    return JSON.parse(readFileSync(report, "utf8")) as GitleaksFinding[];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The `paths` regexes of .gitleaks.toml's allow-lists, so our own structured scan skips the same files. */
export function allowedPathPatterns(config = readFileSync(gitleaksConfig, "utf8")): RegExp[] {
  return [...config.matchAll(/^paths\s*=\s*\[\s*'''(.*?)'''\s*\]\s*$/gm)].map((match) => new RegExp(match[1]!));
}
