// `make backup TARGET=kube`: one backup of the Orthanc database now, as a Job
// of the chart's backup CronJob, waiting for it, then printing where the dump
// is and its size. (Without TARGET=kube, make backup backs up the local stack:
// proving-ground/local/backup-cli.ts.)
import { log } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { clusterBackup } from "./cluster.ts";
import { formatBytes, type BackupResult } from "./scripts.ts";

export function printBackup(result: BackupResult, where: string): void {
  log.ok(`backup written: ${where}`);
  log.plain(`  size ${formatBytes(result.bytes)} (${result.bytes} bytes), ${result.seconds}s; ${result.kept} kept, ${result.deleted} older deleted`);
}

export const backupTask: Task = {
  id: "backup/backup",
  cluster: true,
  title: "Back up the Orthanc database now",
  summary:
    "Creates a Job from the orthanc chart's CronJob <release>-backup (the same pod: pg_dump custom format, tables and the large objects holding the DICOM files, one consistent snapshot while Orthanc keeps ingesting), " +
    "waits for it, and prints the dump's path on the backup volume and its size (and it is copied to S3 when backup.s3 is on).",
  run: async (ctx) => {
    const result = await clusterBackup(ctx.kube, { namespace: ctx.settings.namespaces.orthanc, release: ctx.settings.releases.orthanc, timeoutSeconds: ctx.settings.timeoutSeconds });
    if (result) printBackup(result, `${result.file} on volume ${ctx.settings.releases.orthanc}-backups (namespace ${ctx.settings.namespaces.orthanc})`);
  },
};

if (import.meta.main) await main("backup", [backupTask]);
