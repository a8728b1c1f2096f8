// Step 1 of `make local-up` (alone: `make local-packages`): the Debian packages the local stack runs.
import { main, type Task } from "../../tasks/lib/task.ts";
import { ensurePackages } from "./packages.ts";
import { localFlags } from "./settings.ts";

export const task: Task = {
  id: "local/01-packages",
  title: "Debian packages: orthanc, orthanc-postgresql, postgresql, haproxy, dcmtk",
  summary: "Installs the Debian packages the local stack runs, with apt-get, when any is missing (needs root). Prints the installed versions.",
  flags: localFlags,
  run: (ctx) => ensurePackages(undefined, { dryRun: ctx.dryRun }),
};

if (import.meta.main) await main(task.id, [task]);
