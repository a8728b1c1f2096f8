// `make restore FROM=<dump>` on the local stack (see backup.ts, localRestore):
// load into a new database while Orthanc serves, stop Orthanc, switch (the old
// database kept, renamed), start, verify.
import { TaskError } from "../../tasks/lib/errors.ts";
import { log } from "../../tasks/lib/log.ts";
import { displayPath } from "../../tasks/lib/paths.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { localRestore } from "./backup.ts";
import { loadLocalSettings, localFlags } from "./settings.ts";

export const localRestoreTask: Task = {
  id: "local/restore",
  title: "Restore the local stack's Orthanc database from a backup",
  summary:
    "Loads --from (a dump of make backup) into a new database while Orthanc keeps serving and checks it; then stops the Orthanc processes, renames the current database to <name>_before_<time> (kept, never dropped) and the new one into its place, " +
    "starts Orthanc and checks it serves exactly the instances the restored database holds. A database holding data is replaced only with --yes-replace. For a cluster: make restore TARGET=kube.",
  flags: {
    ...localFlags,
    from: { type: "string", description: "the dump to restore (a file), e.g. .work/local/backups/orthanc-20261207T021700Z.dump" },
    "yes-replace": { type: "boolean", description: "replace a database that holds data (it is kept, renamed to <name>_before_<time>)" },
  },
  validate: async (ctx) => {
    if (typeof ctx.flags.from !== "string" || ctx.flags.from === "") throw new TaskError("FROM is required: the backup to restore", { code: "usage", hint: "make restore FROM=.work/local/backups/orthanc-….dump (make backup prints it)" });
  },
  run: async (ctx) => {
    const result = await localRestore(loadLocalSettings(ctx.settings, ctx.flags), String(ctx.flags.from), { replace: ctx.flags["yes-replace"] === true, dryRun: ctx.dryRun });
    if (!result) return;
    log.ok(`restored ${displayPath(result.file)} into "${result.database}": ${result.instances} instances, ${result.largeObjects} large objects`);
    log.plain(`  load ${result.loadSeconds.toFixed(1)}s (Orthanc serving), Orthanc stopped ${result.downtimeSeconds.toFixed(1)}s${result.previous ? `; previous data kept as "${result.previous}"` : ""}`);
  },
};

if (import.meta.main) await main("restore", [localRestoreTask]);
