// What the backup tasks share with the chart: the two scripts that do the
// work (helm/orthanc/files/backup.sh and restore.sh, run by the CronJob and by
// these tasks alike), the lines they end with, and the names they give.
import { TaskError } from "../lib/errors.ts";
import { fromRoot } from "../lib/paths.ts";

export const scripts = {
  backup: fromRoot("helm", "orthanc", "files", "backup.sh"),
  restore: fromRoot("helm", "orthanc", "files", "restore.sh"),
};

export interface BackupResult {
  /** Where the dump is: a path on this machine, or on the backup volume of a cluster. */
  file: string;
  bytes: number;
  seconds: number;
  kept: number;
  deleted: number;
}

export interface RestoreResult {
  /** The dump restored. */
  file: string;
  /** The database Orthanc uses, now holding the restored data. */
  database: string;
  /** The data it held before, renamed (never dropped); undefined when there was none. */
  previous: string | undefined;
  largeObjects: number;
  /** Orthanc instances it serves after the restore. */
  instances: number;
  /** Loading into the new database (Orthanc still serving), and Orthanc stopped until it answered again. */
  loadSeconds: number;
  downtimeSeconds: number;
}

/** key=value pairs of the last line starting with `marker` in a script's output. */
export function markerLine(output: string, marker: string): Record<string, string> | undefined {
  const line = output.split("\n").reverse().find((l) => l.startsWith(`${marker} `));
  if (!line) return undefined;
  return Object.fromEntries(line.slice(marker.length + 1).split(" ").map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
}

export function parseBackupOutput(output: string): BackupResult {
  const fields = markerLine(output, "KORTHWEB_BACKUP");
  if (!fields?.file) throw new TaskError(`the backup script ended without saying where the dump is; its output:\n${output.trim().split("\n").slice(-10).join("\n")}`);
  return { file: fields.file, bytes: Number(fields.bytes), seconds: Number(fields.seconds), kept: Number(fields.kept), deleted: Number(fields.deleted) };
}

/** A database name for the restored data, unique per run: <database>_restore_<UTC time>. */
export const restoreDatabaseName = (database: string, now = new Date()): string =>
  `${database}_restore_${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").toLowerCase()}`;

/** A dump name the backup script writes: orthanc-YYYYMMDDTHHMMSSZ.dump. */
export const dumpName = /^orthanc-\d{8}T\d{6}Z\.dump$/;

export const formatBytes = (bytes: number): string =>
  bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
