// `make backup`: one backup of the Orthanc database now — on the local stack
// with the chart's backup.sh, or on a cluster as a Job of the chart's backup
// CronJob — waiting for it, then printing where the dump is and its size.
import { TaskError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { checkCluster } from "../lib/preflight.ts";
import { main, type Task } from "../lib/task.ts";
import { displayPath } from "../local/layout.ts";
import { loadLocalSettings } from "../local/settings.ts";
import { clusterBackup } from "./cluster.ts";
import { localBackup } from "./local.ts";
import { formatBytes, type BackupResult } from "./scripts.ts";
import { targetFlags, targetKind } from "./target.ts";

export function printBackup(result: BackupResult, where: string): void {
  log.ok(`backup written: ${where}`);
  log.plain(`  size ${formatBytes(result.bytes)} (${result.bytes} bytes), ${result.seconds}s; ${result.kept} kept, ${result.deleted} older deleted`);
}

export const backupTask: Task = {
  id: "backup/backup",
  title: "Back up the Orthanc database now",
  summary:
    "Runs one logical backup (pg_dump custom format: tables and the large objects holding the DICOM files, one consistent snapshot while Orthanc keeps ingesting) and waits for it. " +
    "--target local (default): the local stack's database, with helm/orthanc/files/backup.sh, into .work/local/backups (or --dir). " +
    "--target kube: a Job made from the chart's CronJob <release>-backup, onto its backup volume (and S3 when configured). Prints the dump's path and size.",
  flags: {
    ...targetFlags,
    dir: { type: "string", description: "local target: folder for the dumps (default .work/local/backups)" },
    keep: { type: "string", description: "local target: dumps to keep, newest first (default 7; the chart's backup.keep on a cluster)" },
  },
  validate: async (ctx) => {
    targetKind(ctx.flags);
    const keep = ctx.flags.keep;
    if (keep !== undefined && !/^[1-9]\d{0,3}$/.test(String(keep))) throw new TaskError(`invalid --keep "${String(keep)}": expected a whole number from 1 to 9999`, { code: "usage" });
  },
  run: async (ctx) => {
    if (targetKind(ctx.flags) === "kube") {
      if (!ctx.dryRun) await checkCluster(ctx.kube);
      const result = await clusterBackup(ctx.kube, { namespace: ctx.settings.namespaces.orthanc, release: ctx.settings.releases.orthanc, timeoutSeconds: ctx.settings.timeoutSeconds });
      if (result) printBackup(result, `${result.file} on volume ${ctx.settings.releases.orthanc}-backups (namespace ${ctx.settings.namespaces.orthanc})`);
      return;
    }
    const settings = loadLocalSettings(ctx.settings, ctx.flags);
    const result = await localBackup(settings, { dir: typeof ctx.flags.dir === "string" ? ctx.flags.dir : undefined, keep: ctx.flags.keep ? Number(ctx.flags.keep) : undefined, dryRun: ctx.dryRun });
    if (result) {
      printBackup(result, displayPath(result.file));
      log.plain(`  restore it with: make restore FROM=${displayPath(result.file)}`);
    }
  },
};

if (import.meta.main) await main("backup", [backupTask]);
