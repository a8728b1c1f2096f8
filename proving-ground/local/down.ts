// `make local-down`: stops the local stack (haproxy, Orthanc, PostgreSQL), each
// by its PID file, waiting for it to exit. Keeps the data unless asked.
import { log } from "../../tasks/lib/log.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { loadLocalSettings, localFlags } from "./settings.ts";
import { stackDown } from "./stack.ts";

export const downTask: Task = {
  id: "local/down",
  title: "Stop the local stack",
  summary:
    "Stops haproxy, Orthanc and PostgreSQL (SIGTERM / pg_ctl stop, waiting for each to exit). The database, certificates and " +
    "credentials under .work/local are kept for the next `make local-up`; --delete-data (make local-down DELETE_DATA=1) deletes them.",
  flags: { ...localFlags, "delete-data": { type: "boolean", description: "also delete .work/local (database, certificates, credentials, logs)" } },
  run: async (ctx) => {
    const deleteData = ctx.flags["delete-data"] === true;
    if (ctx.dryRun) {
      log.info(`[dry-run] would stop haproxy, Orthanc and PostgreSQL${deleteData ? " and delete .work/local" : ""}`);
      return;
    }
    await stackDown(loadLocalSettings(ctx.settings, ctx.flags), { deleteData });
  },
};

if (import.meta.main) await main("local-down", [downTask]);
