// Step 6: wait until Orthanc is rolled out (its readiness probe reads the
// database, so Ready means the whole chain up to PostgreSQL works).
import { waitForRollout } from "../lib/kube-wait.ts";
import { main, type Task } from "../lib/task.ts";

export const task: Task = {
  id: "helm/06-wait",
  cluster: true,
  title: "Wait for Orthanc to be ready",
  summary:
    "Waits until every Orthanc pod of the Deployment is updated and Ready. Readiness calls /changes?last, which needs PostgreSQL, so Ready means Orthanc, its credentials and the database all work.",
  run: async (ctx) => {
    await waitForRollout(ctx.kube, "Deployment", ctx.settings.releases.orthanc, ctx.settings.namespaces.orthanc, ctx.settings.timeoutSeconds);
  },
};

if (import.meta.main) await main(task.id, [task]);
