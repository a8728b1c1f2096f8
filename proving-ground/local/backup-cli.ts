// `make backup` on the local stack: one backup of its database now with the
// chart's backup.sh (see backup.ts), printing where the dump is and its size.
import { printBackup } from "../../tasks/backup/backup.ts";
import { TaskError } from "../../tasks/lib/errors.ts";
import { log } from "../../tasks/lib/log.ts";
import { displayPath } from "../../tasks/lib/paths.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { localBackup } from "./backup.ts";
import { loadLocalSettings, localFlags } from "./settings.ts";

export const localBackupTask: Task = {
  id: "local/backup",
  title: "Back up the local stack's Orthanc database now",
  summary:
    "Runs helm/orthanc/files/backup.sh (the chart's backup CronJob's script) with Debian's pg_dump as user postgres: a custom-format dump of the database with the large objects holding the DICOM files, " +
    "one snapshot while Orthanc keeps ingesting, into .work/local/backups (or --dir), keeping the newest --keep. Prints the dump's path and size. For a cluster: make backup TARGET=kube.",
  flags: {
    ...localFlags,
    dir: { type: "string", description: "folder for the dumps (default .work/local/backups)" },
    keep: { type: "string", description: "dumps to keep, newest first (default 7)" },
  },
  validate: async (ctx) => {
    const keep = ctx.flags.keep;
    if (keep !== undefined && !/^[1-9]\d{0,3}$/.test(String(keep))) throw new TaskError(`invalid --keep "${String(keep)}": expected a whole number from 1 to 9999`, { code: "usage" });
  },
  run: async (ctx) => {
    const settings = loadLocalSettings(ctx.settings, ctx.flags);
    const result = await localBackup(settings, { dir: typeof ctx.flags.dir === "string" ? ctx.flags.dir : undefined, keep: ctx.flags.keep ? Number(ctx.flags.keep) : undefined, dryRun: ctx.dryRun });
    if (!result) return;
    printBackup(result, displayPath(result.file));
    log.plain(`  restore it with: make restore FROM=${displayPath(result.file)}`);
  },
};

if (import.meta.main) await main("backup", [localBackupTask]);
