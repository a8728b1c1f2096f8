// Step 6 of `make local-up`: the smoke suite against the local stack, then where everything is.
import { smokeWithTable } from "../../smoke/cli.ts";
import { localTarget, TargetOptions } from "../../smoke/discover.ts";
import { TaskError } from "../../tasks/lib/errors.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { localLayout } from "./layout.ts";
import { localFlags } from "./settings.ts";
import { printSummary, readTargetFile } from "./stack.ts";
import { dryRunNote, settingsOf } from "./step.ts";

export const task: Task = {
  id: "local/06-smoke",
  title: "Smoke suite against the local stack",
  summary: "Runs the smoke suite (smoke/) against the local stack and prints the endpoints, where the CA and credentials are, and the next commands.",
  flags: localFlags,
  run: async (ctx) => {
    if (dryRunNote(ctx, "run the smoke suite")) return;
    const settings = settingsOf(ctx);
    const file = localLayout(settings.dir).target;
    const report = await smokeWithTable(localTarget(new TargetOptions({}, {}), file, {}));
    if (!report.passed) {
      throw new TaskError("the local stack runs, but the smoke suite failed", { hint: "see the causes above; logs are under .work/local/" });
    }
    printSummary(settings, readTargetFile(file)!);
  },
};

if (import.meta.main) await main(task.id, [task]);
