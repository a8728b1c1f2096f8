// The flags that say what Flux follows: the fork's URL, the branch and the
// cluster folder. Defaults come from the checkout (its origin remote, its
// current branch); bad values stop the install before anything is applied.
import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, normalize } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import type { FlagSpec, FlagValues } from "../lib/task.ts";
import { defaultClusterPath } from "./tree.ts";

export const pathFlag: Record<string, FlagSpec> = {
  path: { type: "string", description: `cluster folder Flux applies, in the repository (default ${defaultClusterPath})` },
};

export const sourceFlags: Record<string, FlagSpec> = {
  url: { type: "string", description: "Git URL of your fork, https://… or ssh://… (default: this checkout's origin remote)" },
  branch: { type: "string", description: "branch Flux follows (default: this checkout's current branch)" },
  ...pathFlag,
  "git-secret": { type: "string", description: "Secret in flux-system with Git credentials (needed for ssh:// and private forks)" },
};

export interface SourceOptions {
  url: string;
  branch: string;
  /** "./gitops/clusters/<name>" */
  path: string;
  secretName?: string;
}

const usage = (message: string, hint: string) => new TaskError(message, { code: "usage", hint });

/** A URL Flux's source-controller can clone: https://, http:// or ssh:// (scp-style git@host:path becomes ssh://). */
export function parseGitUrl(raw: string): string {
  const value = raw.trim();
  const scp = /^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(?!\/\/)(.+)$/.exec(value);
  const url = scp ? `ssh://${scp[1]}@${scp[2]}/${scp[3]!.replace(/^\//, "")}` : value;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(`invalid --url "${raw}": not a URL`, "pass your fork's clone URL, e.g. --url https://github.com/YOU/korthweb");
  }
  if (!["https:", "http:", "ssh:"].includes(parsed.protocol)) {
    throw usage(`invalid --url "${raw}": Flux runs in the cluster and clones over https:// or ssh://, not ${parsed.protocol}`, "push your fork to a Git server and pass its https:// or ssh:// URL");
  }
  if (!parsed.hostname || parsed.pathname.replace(/\//g, "") === "") {
    throw usage(`invalid --url "${raw}": it names no repository`, "e.g. --url https://github.com/YOU/korthweb");
  }
  if (parsed.password) throw usage(`invalid --url "${raw}": credentials do not belong in the URL (they would be stored in the GitRepository)`, "put them in a Secret and pass --git-secret NAME (docs/gitops.md)");
  return url;
}

/** A branch name as git accepts it (git check-ref-format, the common rules). */
export function parseBranch(raw: string): string {
  const bad =
    raw === "" ||
    raw.length > 200 ||
    !/^[A-Za-z0-9._/-]+$/.test(raw) ||
    /^[-/.]|\/$|\.\.|\/\/|\.lock$|\/\./.test(raw);
  if (bad) throw usage(`invalid --branch "${raw}": not a valid branch name`, "e.g. --branch main");
  return raw;
}

/** The cluster folder as Flux wants it ("./gitops/clusters/x"); it must exist here, under gitops/, with a kustomization.yaml. */
export function parseClusterPath(raw: string, root: string): string {
  const relativePath = normalize(raw.trim().replace(/^\.\//, "")).replace(/\/$/, "");
  if (isAbsolute(raw) || relativePath.startsWith("..")) {
    throw usage(`invalid --path "${raw}": it must be relative to the repository root`, `e.g. --path ${defaultClusterPath}`);
  }
  if (!relativePath.startsWith("gitops/")) {
    throw usage(`invalid --path "${raw}": Flux only receives gitops/ and helm/ from the repository`, `pick a folder under gitops/clusters/, e.g. --path ${defaultClusterPath}`);
  }
  const dir = join(root, relativePath);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw usage(`invalid --path "${raw}": no folder ${relativePath} in this checkout`, `e.g. --path ${defaultClusterPath}`);
  if (!existsSync(join(dir, "kustomization.yaml"))) throw usage(`invalid --path "${raw}": ${relativePath} has no kustomization.yaml`, "a cluster folder lists infrastructure.yaml and its tenants (docs/gitops.md)");
  return `./${relativePath}`;
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function clusterPathFrom(flags: FlagValues, root: string): string {
  return parseClusterPath(typeof flags.path === "string" ? flags.path : defaultClusterPath, root);
}

async function git(root: string, args: string[]): Promise<string | undefined> {
  const result = await run("git", ["-C", root, ...args], { silent: true, allowFailure: true });
  const value = result.stdout.trim();
  return result.exitCode === 0 && value ? value : undefined;
}

/** Flags first, then the checkout's origin remote and current branch. */
export async function resolveSourceOptions(flags: FlagValues, root: string): Promise<SourceOptions> {
  const rawUrl = typeof flags.url === "string" ? flags.url : await git(root, ["remote", "get-url", "origin"]);
  if (!rawUrl) throw usage("no Git URL: pass --url, or run from a clone of your fork (its origin remote is the default)", "e.g. --url https://github.com/YOU/korthweb");
  const url = parseGitUrl(rawUrl);
  const currentBranch = await git(root, ["rev-parse", "--abbrev-ref", "HEAD"]);
  const branch = parseBranch(typeof flags.branch === "string" ? flags.branch : currentBranch && currentBranch !== "HEAD" ? currentBranch : "main");
  const path = clusterPathFrom(flags, root);
  const secretName = typeof flags["git-secret"] === "string" ? flags["git-secret"] : undefined;
  if (secretName !== undefined && !dnsSubdomain.test(secretName)) throw usage(`invalid --git-secret "${secretName}": not a Secret name`, "lowercase letters, digits, '-' and '.'");
  if (url.startsWith("ssh://") && !secretName) {
    throw usage(`--url ${url} is ssh: Flux needs a deploy key`, "create the Secret (docs/gitops.md, \"Private forks\") and pass --git-secret NAME, or use the https:// URL of a public fork");
  }
  return { url, branch, path, ...(secretName ? { secretName } : {}) };
}

/** Local state Flux will not see: uncommitted or unpushed changes to what it deploys. */
export async function unpublishedChanges(root: string): Promise<string[]> {
  const notes: string[] = [];
  const dirty = await git(root, ["status", "--porcelain", "--", "gitops", "helm"]);
  if (dirty) notes.push(`uncommitted changes under gitops/ or helm/ (${dirty.split("\n").length} files)`);
  const ahead = await git(root, ["rev-list", "--count", "@{upstream}..HEAD"]);
  if (ahead && ahead !== "0") notes.push(`${ahead} local commits not pushed`);
  return notes;
}
