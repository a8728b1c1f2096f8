// Backup and restore of the local stack (make local-up; make backup / make restore
// without TARGET=kube): the chart's own scripts
// (helm/orthanc/files/backup.sh, restore.sh) run with Debian's pg_dump and
// pg_restore as user postgres over the stack's private socket — the same
// steps the CronJob and the cluster restore Jobs run, on real processes.
import { chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { formatBytes, markerLine, parseBackupOutput, restoreDatabaseName, scripts, type BackupResult, type RestoreResult } from "../../tasks/backup/scripts.ts";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run, type RunResult } from "../../tasks/lib/exec.ts";
import { log, progress, style } from "../../tasks/lib/log.ts";
import { displayPath } from "../../tasks/lib/paths.ts";
import { orthancInstances } from "./instances.ts";
import { localLayout, type LocalLayout } from "./layout.ts";
import { LocalOrthanc } from "./orthanc.ts";
import { LocalPostgresql } from "./postgresql.ts";
import { loadRuntime } from "./runtime.ts";
import type { LocalSettings } from "./settings.ts";
import { orthancStep } from "./stack.ts";
import { systemUser } from "./users.ts";

/** Where `make backup` puts the local stack's dumps by default. */
export const localBackupDir = (settings: LocalSettings): string => join(settings.dir, "backups");

interface LocalContext {
  layout: LocalLayout;
  postgresql: LocalPostgresql;
  port: number;
  database: string;
  owner: string;
}

function localContext(settings: LocalSettings): LocalContext {
  const layout = localLayout(settings.dir);
  if (!existsSync(layout.manifests)) {
    throw new TaskError(`no local stack in ${displayPath(settings.dir)}`, { hint: "start it with `make local-up` (or give the folder in KORTHWEB_LOCAL_DIR)" });
  }
  const runtime = loadRuntime(layout, settings);
  const postgresql = new LocalPostgresql(layout, settings.ports.postgresql);
  const port = postgresql.runningPort;
  if (port === undefined) throw new TaskError("the local stack's PostgreSQL is not running", { hint: "start it with `make local-up`" });
  return { layout, postgresql, port, database: runtime.facts.database.name, owner: runtime.facts.database.username };
}

/** libpq's environment for the superuser over the private socket, and the server's tools first on PATH. */
const libpqEnv = (context: LocalContext): Record<string, string> => ({
  PATH: `${context.postgresql.bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
  PGHOST: context.postgresql.layout.socketDir,
  PGPORT: String(context.port),
  PGUSER: "postgres",
});

/** A script of the chart as user postgres (read from stdin: the checkout need not be readable by postgres). */
function runScript(script: string, args: readonly string[], env: Record<string, string>): Promise<RunResult> {
  return run("runuser", ["-u", "postgres", "--", "/bin/bash", "-s", "--", ...args], { input: readScript(script), env, allowFailure: true, timeoutMs: 6 * 3600_000 });
}

const readScript = (path: string): string => readFileSync(path, "utf8");

async function psqlValue(context: LocalContext, database: string, sql: string): Promise<string> {
  const { stdout } = await run("runuser", ["-u", "postgres", "--", join(context.postgresql.bin, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database], {
    input: sql,
    env: libpqEnv(context),
    silent: true,
  });
  return stdout.trim();
}

/** Orthanc resources (patients, studies, series, instances) in the database Orthanc uses; 0 when it or its tables do not exist. */
export async function currentResources(context: LocalContext): Promise<number> {
  const exists = await psqlValue(context, "postgres", `SELECT count(*) FROM pg_database WHERE datname = '${context.database.replaceAll("'", "''")}';`);
  if (exists !== "1") return 0;
  return Number(await psqlValue(context, context.database, "SELECT CASE WHEN to_regclass('public.resources') IS NULL THEN 0 ELSE (SELECT count(*) FROM public.resources) END;"));
}

/** Sizes in 16 MiB steps for progress lines: a log (not a terminal) gets a line per change, not one a second. */
const coarse = (bytes: number): number => Math.floor(bytes / (16 * 1024 * 1024)) * 16 * 1024 * 1024;

/** Updates a progress line every second while `work` runs. */
async function withProgress<T>(label: string, status: () => Promise<string> | string, work: Promise<T>): Promise<T> {
  const line = progress(label);
  const timer = setInterval(() => {
    void Promise.resolve(status()).then((text) => line.update(text), () => undefined);
  }, 1000);
  try {
    const result = await work;
    line.done();
    return result;
  } catch (error) {
    line.fail();
    throw error;
  } finally {
    clearInterval(timer);
  }
}

const failed = (what: string, result: RunResult, hint?: string): TaskError =>
  new TaskError(`${what} failed (exit ${result.exitCode}):\n    ${(result.stderr.trim() || result.stdout.trim()).split("\n").slice(-8).join("\n    ")}`, hint ? { hint } : {});

export interface LocalBackupOptions {
  dir?: string;
  keep?: number;
  dryRun?: boolean;
}

/** One backup now, into `dir` (default .work/local/backups); returns where it is and its size. */
export async function localBackup(settings: LocalSettings, options: LocalBackupOptions = {}): Promise<BackupResult | undefined> {
  const context = localContext(settings);
  const dir = resolve(options.dir ?? localBackupDir(settings));
  const keep = options.keep ?? 7;
  if (options.dryRun) {
    log.info(`${style.yellow("[dry-run]")} would run helm/orthanc/files/backup.sh as postgres: pg_dump of database "${context.database}" (127.0.0.1:${context.port}) into ${displayPath(dir)}, keeping the newest ${keep}`);
    return undefined;
  }
  const postgres = systemUser("postgres");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, postgres.uid, postgres.gid);
  const partialSize = () => {
    const partial = readdirSync(dir).find((name) => name.endsWith(".partial"));
    return partial ? `${formatBytes(coarse(statSync(join(dir, partial)).size))} written` : "starting";
  };
  const env = { ...libpqEnv(context), PGDATABASE: context.database, BACKUP_DIR: dir, BACKUP_KEEP: String(keep) };
  const result = await withProgress(`pg_dump of "${context.database}" to ${displayPath(dir)}`, partialSize, runScript(scripts.backup, [], env));
  if (result.exitCode !== 0) throw failed("the backup", result);
  return parseBackupOutput(result.stdout);
}

export interface LocalRestoreOptions {
  /** Replace a database that holds data (it is kept, renamed). */
  replace?: boolean;
  dryRun?: boolean;
}

/** Orthanc's /statistics CountInstances, asked directly on instance 1's port. */
async function servedInstances(port: number, login: { username: string; password: string }): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/statistics`, { headers: { authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}` } });
  if (response.status !== 200) throw new TaskError(`Orthanc answered GET /statistics with ${response.status} after the restore`);
  return ((await response.json()) as { CountInstances: number }).CountInstances;
}

/**
 * Restores `file` into a new database while Orthanc keeps serving, verifies it, then stops Orthanc,
 * renames the current database to <name>_before_<time> (kept) and the new one into place, starts
 * Orthanc and checks it serves exactly the instances the restored database holds.
 */
export async function localRestore(settings: LocalSettings, file: string, options: LocalRestoreOptions = {}): Promise<RestoreResult | undefined> {
  const dump = resolve(file);
  if (!existsSync(dump) || !statSync(dump).isFile()) throw new TaskError(`FROM: no dump at ${file}`, { code: "usage", hint: `list the backups with: ls ${displayPath(localBackupDir(settings))}` });
  const context = localContext(settings);
  const resources = await currentResources(context);
  const newDatabase = restoreDatabaseName(context.database);
  if (resources > 0 && !options.replace) {
    throw new TaskError(`database "${context.database}" of the local stack holds ${resources} Orthanc resources; a restore replaces them`, {
      code: "usage",
      hint: `confirm with --yes-replace (make restore FROM=${file} CONFIRM=1): the current data is kept, renamed to ${context.database}_before_<time>, never dropped`,
    });
  }
  if (options.dryRun) {
    for (const step of [
      `load ${displayPath(dump)} into a new database "${newDatabase}" (pg_restore; Orthanc keeps serving) and check its tables and large objects`,
      `stop the ${settings.orthancInstances} Orthanc process${settings.orthancInstances === 1 ? "" : "es"} (the writers)`,
      `rename "${context.database}" (${resources} resources) to "${context.database}_before_<time>" (kept) and "${newDatabase}" to "${context.database}"`,
      "start Orthanc and check it serves every instance of the restored database",
    ]) log.info(`${style.yellow("[dry-run]")} would ${step}`);
    return undefined;
  }
  const postgres = systemUser("postgres");
  // postgres must read the dump: stage a copy next to the backups when it lies elsewhere.
  const staged = dirname(dump) === localBackupDir(settings) ? undefined : join(localBackupDir(settings), `.restore-${basename(dump)}`);
  if (staged) {
    mkdirSync(dirname(staged), { recursive: true, mode: 0o700 });
    chownSync(dirname(staged), postgres.uid, postgres.gid);
    copyFileSync(dump, staged);
    chownSync(staged, postgres.uid, postgres.gid);
  }
  try {
    const env = { ...libpqEnv(context), RESTORE_DATABASE: context.database, RESTORE_OWNER: context.owner, RESTORE_REPLACE: options.replace ? "yes" : "" };
    const loadStarted = performance.now();
    const size = async () => `${formatBytes(coarse(Number((await psqlValue(context, "postgres", `SELECT coalesce(pg_database_size(oid), 0) FROM pg_database WHERE datname = '${newDatabase}';`)) || 0)))} loaded`;
    const loaded = await withProgress(`pg_restore of ${basename(dump)} into "${newDatabase}"`, size, runScript(scripts.restore, ["load", staged ?? dump, newDatabase], env));
    if (loaded.exitCode === 3) throw failed("the restore", loaded, "confirm with --yes-replace (make restore … CONFIRM=1)");
    if (loaded.exitCode !== 0) throw failed("loading the dump", loaded, `the data in use is untouched; drop "${newDatabase}" once you have looked at it`);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const largeObjects = Number(markerLine(loaded.stdout, "KORTHWEB_RESTORE_LOADED")?.largeObjects ?? 0);
    log.ok(`"${newDatabase}" holds the dump: ${largeObjects} large objects (DICOM files)`);

    const layout = context.layout;
    const runtime = loadRuntime(layout, settings);
    const downtimeStarted = performance.now();
    for (const instance of orthancInstances(layout, runtime, settings.orthancInstances)) {
      if (await new LocalOrthanc(layout, instance.paths, instance.name).stop()) log.ok(`stopped ${instance.name} (no writes during the switch)`);
    }
    const switched = await runScript(scripts.restore, ["switch", newDatabase], env);
    if (switched.exitCode !== 0) throw failed("switching databases", switched, "start Orthanc again with `make local-up`: the data it used is where it was unless the output above says otherwise");
    const previous = markerLine(switched.stdout, "KORTHWEB_RESTORE_SWITCHED")?.previous;
    const hadPrevious = (await psqlValue(context, "postgres", `SELECT count(*) FROM pg_database WHERE datname = '${previous ?? ""}';`)) === "1";
    log.ok(`"${context.database}" is now the restored data${hadPrevious ? `; the previous data is kept as "${previous}"` : ""}`);
    await orthancStep(settings);
    const expected = Number(await psqlValue(context, context.database, "SELECT count(*) FROM public.resources WHERE resourcetype = 3;"));
    const served = await servedInstances(runtime.facts.httpPort, runtime.facts.login);
    const downtimeSeconds = (performance.now() - downtimeStarted) / 1000;
    if (served !== expected) {
      throw new TaskError(`after the restore Orthanc serves ${served} instances, the restored database holds ${expected}`, {
        hint: hadPrevious ? `the previous data is untouched in "${previous}": stop Orthanc and rename it back to "${context.database}" to undo` : undefined,
      });
    }
    log.ok(`Orthanc serves the ${served} instances of the restored database`);
    return { file: dump, database: context.database, previous: hadPrevious ? previous : undefined, largeObjects, instances: served, loadSeconds, downtimeSeconds };
  } finally {
    if (staged) rmSync(staged, { force: true });
  }
}
