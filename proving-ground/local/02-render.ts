// Step 2 of `make local-up`: render the chart; the effective Orthanc configuration is the rendered one plus the local overlay.
import { main, type Task } from "../../tasks/lib/task.ts";
import { localFlags } from "./settings.ts";
import { renderStep } from "./stack.ts";
import { settingsOf } from "./step.ts";

export const task: Task = {
  id: "local/02-render",
  title: "Render the chart; Orthanc configuration = rendered orthanc.json + local overlay",
  summary: "helm template helm/orthanc with proving-ground/local/values.yaml; keeps the chart's certificates; writes the effective orthanc.json and env under .work/local.",
  flags: localFlags,
  run: async (ctx) => {
    await renderStep(ctx.helm, settingsOf(ctx));
  },
};

if (import.meta.main) await main(task.id, [task]);
