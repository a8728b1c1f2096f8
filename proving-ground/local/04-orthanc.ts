// Step 4 of `make local-up`: Orthanc on the effective configuration.
import { main } from "../../tasks/lib/task.ts";
import { orthancStep } from "./stack.ts";
import { startStep } from "./step.ts";

export const task = startStep(
  "local/04-orthanc",
  "Orthanc 1.10 on the effective configuration, env from the Deployment",
  "Starts Debian's Orthanc as user orthanc with the container's env (Secret values generated under .work/local/secrets); waits until /system answers.",
  "start Orthanc",
  orthancStep,
);

if (import.meta.main) await main(task.id, [task]);
