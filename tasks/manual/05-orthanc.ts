// Step 5: Orthanc, from the YAML helm/orthanc renders with the manual values
// (committed in manual/05-orthanc/orthanc.yaml), and the login Secret it reads.
import { main, type Task } from "../lib/task.ts";
import { applyFile, waitForWorkload } from "./apply.ts";
import { ensureGeneratedSecret, generatedSecrets } from "./credentials.ts";
import { files, workloads } from "./layout.ts";

export const task: Task = {
  id: "manual/05-orthanc",
  cluster: true,
  title: "Orthanc (rendered from helm/orthanc, committed YAML)",
  summary:
    "Creates the Secret orthanc-admin (username admin, random password) unless it exists, applies manual/05-orthanc/orthanc.yaml (Deployment, Service, configuration, NetworkPolicy, PDB: what helm/orthanc renders with manual/05-orthanc/orthanc.values.yaml) and waits until every pod is Ready (readiness reads the database).",
  run: async (ctx) => {
    await ensureGeneratedSecret(ctx, generatedSecrets.admin);
    await applyFile(ctx, files.orthanc);
    await waitForWorkload(ctx, workloads.orthanc);
  },
};

if (import.meta.main) await main(task.id, [task]);
