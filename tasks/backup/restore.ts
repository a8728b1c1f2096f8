// `make restore TARGET=kube FROM=<dump>`: restores a backup from the chart's
// backup volume without losing the data in use: Jobs made from the backup
// CronJob load the dump into a new database while Orthanc serves and check
// it; then Orthanc is scaled to zero, the databases are renamed (the old one
// kept), Orthanc scaled back and checked. Refuses to replace a database
// holding data unless --yes-replace (CONFIRM=1). (Without TARGET=kube, make
// restore restores the local stack: proving-ground/local/restore-cli.ts.)
import { TaskError } from "../lib/errors.ts";
import { main, type Task } from "../lib/task.ts";
import { clusterRestore } from "./cluster.ts";

export const restoreTask: Task = {
  id: "backup/restore",
  cluster: true,
  title: "Restore the Orthanc database from a backup",
  summary:
    "Loads --from (a dump's name on the backup volume, as make backup printed it) into a new database while Orthanc keeps serving and checks it; then scales Orthanc to zero, renames the current database to <name>_before_<time> (kept, never dropped) and the new one into its place, " +
    "scales Orthanc back and checks it answers on the restored data. A database holding data is replaced only with --yes-replace. The Jobs run as the PostgreSQL superuser, password from --admin-secret/--admin-key.",
  flags: {
    from: { type: "string", description: "the dump's name on the backup volume, e.g. orthanc-20261207T021700Z.dump" },
    "yes-replace": { type: "boolean", description: "replace a database that holds data (it is kept, renamed to <name>_before_<time>)" },
    "admin-secret": { type: "string", description: "Secret with the PostgreSQL superuser's password (default orthanc-db)" },
    "admin-key": { type: "string", description: "its key (default postgres-password)" },
    "admin-user": { type: "string", description: "the superuser (default postgres)" },
    database: { type: "string", description: "the database Orthanc uses (default orthanc)" },
    owner: { type: "string", description: "its owner, Orthanc's user (default orthanc)" },
  },
  validate: async (ctx) => {
    if (typeof ctx.flags.from !== "string" || ctx.flags.from === "") throw new TaskError("FROM is required: the backup to restore", { code: "usage", hint: "make restore TARGET=kube FROM=orthanc-….dump (make backup TARGET=kube prints it)" });
  },
  run: async (ctx) => {
    const flag = (name: string, fallback: string) => (typeof ctx.flags[name] === "string" ? String(ctx.flags[name]) : fallback);
    await clusterRestore(ctx.kube, { namespace: ctx.settings.namespaces.orthanc, release: ctx.settings.releases.orthanc, timeoutSeconds: ctx.settings.timeoutSeconds }, {
      from: String(ctx.flags.from),
      replace: ctx.flags["yes-replace"] === true,
      admin: { name: flag("admin-secret", "orthanc-db"), key: flag("admin-key", "postgres-password"), user: flag("admin-user", "postgres") },
      database: flag("database", "orthanc"),
      owner: flag("owner", "orthanc"),
    });
  },
};

if (import.meta.main) await main("restore", [restoreTask]);
