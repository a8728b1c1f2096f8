// `make restore FROM=<dump>`: restores a backup without losing the data in
// use: the dump goes into a new database while Orthanc serves, is checked,
// then Orthanc stops, the databases are renamed (the old one kept), Orthanc
// starts and is checked on the restored data. Refuses to replace a database
// holding data unless --yes-replace (CONFIRM=1) says so.
import { TaskError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { checkCluster } from "../lib/preflight.ts";
import { main, type Task } from "../lib/task.ts";
import { displayPath } from "../local/layout.ts";
import { loadLocalSettings } from "../local/settings.ts";
import { clusterRestore } from "./cluster.ts";
import { localRestore } from "./local.ts";
import { targetFlags, targetKind } from "./target.ts";

export const restoreTask: Task = {
  id: "backup/restore",
  title: "Restore the Orthanc database from a backup",
  summary:
    "Loads --from (a dump of make backup) into a new database while Orthanc keeps serving and checks it; then stops Orthanc's writers, renames the current database to <name>_before_<time> (kept, never dropped) and the new one into its place, starts Orthanc and checks it serves the restored instances. " +
    "A database holding data is replaced only with --yes-replace. --target local (default): the local stack, --from a file. --target kube: Jobs made from the chart's backup CronJob, --from a dump name on its volume, the superuser password from --admin-secret/--admin-key.",
  flags: {
    ...targetFlags,
    from: { type: "string", description: "the dump: a file (local) or its name on the backup volume (kube), e.g. orthanc-20261207T021700Z.dump" },
    "yes-replace": { type: "boolean", description: "replace a database that holds data (it is kept, renamed to <name>_before_<time>)" },
    "admin-secret": { type: "string", description: "kube: Secret with the PostgreSQL superuser's password (default orthanc-db)" },
    "admin-key": { type: "string", description: "kube: its key (default postgres-password)" },
    "admin-user": { type: "string", description: "kube: the superuser (default postgres)" },
    database: { type: "string", description: "kube: the database Orthanc uses (default orthanc)" },
    owner: { type: "string", description: "kube: its owner, Orthanc's user (default orthanc)" },
  },
  validate: async (ctx) => {
    targetKind(ctx.flags);
    if (typeof ctx.flags.from !== "string" || ctx.flags.from === "") throw new TaskError("FROM is required: the backup to restore", { code: "usage", hint: "make restore FROM=.work/local/backups/orthanc-….dump (make backup prints it)" });
  },
  run: async (ctx) => {
    const from = String(ctx.flags.from);
    const replace = ctx.flags["yes-replace"] === true;
    if (targetKind(ctx.flags) === "kube") {
      if (!ctx.dryRun) await checkCluster(ctx.kube);
      const flag = (name: string, fallback: string) => (typeof ctx.flags[name] === "string" ? String(ctx.flags[name]) : fallback);
      await clusterRestore(ctx.kube, { namespace: ctx.settings.namespaces.orthanc, release: ctx.settings.releases.orthanc, timeoutSeconds: ctx.settings.timeoutSeconds }, {
        from,
        replace,
        admin: { name: flag("admin-secret", "orthanc-db"), key: flag("admin-key", "postgres-password"), user: flag("admin-user", "postgres") },
        database: flag("database", "orthanc"),
        owner: flag("owner", "orthanc"),
      });
      return;
    }
    const result = await localRestore(loadLocalSettings(ctx.settings, ctx.flags), from, { replace, dryRun: ctx.dryRun });
    if (result) {
      log.ok(`restored ${displayPath(result.file)} into "${result.database}": ${result.instances} instances, ${result.largeObjects} large objects`);
      log.plain(`  load ${result.loadSeconds.toFixed(1)}s (Orthanc serving), Orthanc stopped ${result.downtimeSeconds.toFixed(1)}s${result.previous ? `; previous data kept as "${result.previous}"` : ""}`);
    }
  },
};

if (import.meta.main) await main("restore", [restoreTask]);
