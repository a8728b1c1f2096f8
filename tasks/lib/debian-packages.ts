// Debian packages the project needs, installed with apt-get when missing (as
// root; otherwise a clear error with the command to run). Versions are what
// the distribution ships (Debian bookworm); what is installed is logged.
import { TaskError } from "./errors.ts";
import { run } from "./exec.ts";
import { log } from "./log.ts";

export interface DebianPackage {
  name: string;
  why: string;
}

/** Installed version of each package, or undefined when it is not installed. */
export async function installedVersions(names: readonly string[]): Promise<Map<string, string | undefined>> {
  const result = await run("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Status} ${Version}\\n", ...names], { silent: true, allowFailure: true });
  const versions = new Map<string, string | undefined>(names.map((name) => [name, undefined]));
  for (const line of result.stdout.split("\n")) {
    const [name, status, version] = line.trim().split(" ");
    if (name && status === "installed" && versions.has(name)) versions.set(name, version);
  }
  return versions;
}

export interface InstallOptions {
  dryRun?: boolean;
  /** Who needs them, for the error when not root: "the local stack", "make setup". */
  purpose?: string;
  /** The make target that installs them, for that error's hint. */
  target?: string;
  /** For tests: pretend to be another user. */
  uid?: number;
}

/** Installs the missing packages (apt-get update, then install); needs root. */
export async function ensurePackages(packages: readonly DebianPackage[], options: InstallOptions = {}): Promise<void> {
  const versions = await installedVersions(packages.map((item) => item.name));
  const missing = packages.filter((item) => versions.get(item.name) === undefined);
  for (const item of packages) {
    const version = versions.get(item.name);
    if (version) log.ok(`${item.name} ${version}`);
  }
  if (missing.length === 0) return;
  const names = missing.map((item) => item.name);
  log.info(`missing Debian packages: ${missing.map((item) => `${item.name} (${item.why})`).join("; ")}`);
  if (options.dryRun) {
    log.info(`[dry-run] would run: apt-get update && apt-get install -y ${names.join(" ")}`);
    return;
  }
  const uid = options.uid ?? process.getuid?.() ?? 0;
  if (uid !== 0) {
    throw new TaskError(`${options.purpose ?? "korthweb"} needs Debian packages that are not installed: ${names.join(", ")}`, {
      code: "missingTool",
      hint: `install them as root: sudo apt-get update && sudo apt-get install -y ${names.join(" ")}${options.target ? ` (or run \`sudo make ${options.target}\`)` : ""}`,
    });
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  // Wait for another apt/dpkg (e.g. a parallel test) instead of failing on its lock.
  const lockWait = ["-o", "DPkg::Lock::Timeout=600"];
  await run("apt-get", [...lockWait, "update"], { env, timeoutMs: 900_000 });
  await run("apt-get", [...lockWait, "install", "-y", "--no-install-recommends", ...names], { env, timeoutMs: 1_200_000 });
  const after = await installedVersions(names);
  for (const name of names) {
    const version = after.get(name);
    if (!version) throw new TaskError(`apt-get finished but ${name} is still not installed`, { hint: "run the apt-get command above by hand to see why" });
    log.ok(`${name} ${version} (installed)`);
  }
}
