// Step 4: the application namespace (sidecar injection on, Pod Security
// "restricted"), the database password Secret, and PostgreSQL from bitnami's chart.
import { requireNamespaceClaim } from "../lib/namespace-claim.ts";
import { main, type Task } from "../lib/task.ts";
import { skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { applyFile, waitForWorkload } from "./apply.ts";
import { ensureGeneratedSecret, generatedSecrets } from "./credentials.ts";
import { files, namespaces, releases, workloads } from "./layout.ts";

export const task: Task = {
  id: "manual/04-postgresql",
  cluster: true,
  title: "PostgreSQL (namespace with sidecar injection, password Secret, bitnami chart)",
  summary:
    "Creates namespace orthanc (labelled korthweb.io/approach=manual; stops if the helm approach owns it) labelled for Istio sidecar injection and Pod Security \"restricted\" (manual/04-postgresql/namespace.yaml), the Secret orthanc-db with random passwords unless it exists, then bitnami's PostgreSQL chart at the pinned version as release orthanc-db with helm/postgresql.values.yaml and manual/04-postgresql/postgresql.values.yaml. Waits for its StatefulSet.",
  flags: skipUpstreamFlag,
  run: async (ctx) => {
    await requireNamespaceClaim(ctx.kube, namespaces.app, "manual");
    await applyFile(ctx, files.appNamespace);
    await ensureGeneratedSecret(ctx, generatedSecrets.database);
    if (skipsUpstream(ctx)) return skipUpstream(ctx, `PostgreSQL (chart ${releases.postgresql.chart} ${releases.postgresql.version})`);
    await ctx.helm.upgradeInstall(releases.postgresql);
    await waitForWorkload(ctx, workloads.postgresql);
  },
};

if (import.meta.main) await main(task.id, [task]);
