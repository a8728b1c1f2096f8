// Step 4: PostgreSQL from bitnami's chart (pinned; legacy images, see
// helm/postgresql.values.yaml) in the Orthanc namespace, TLS on, passwords
// from the orthanc-db Secret made in step 2.
import { waitForRollout } from "../lib/kube-wait.ts";
import { log } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { requireSecrets } from "./02-credentials.ts";
import { credentialSecrets, postgresqlRelease, postgresqlService, valuesFiles } from "./releases.ts";

export const task: Task = {
  id: "helm/04-postgresql",
  cluster: true,
  title: "PostgreSQL (bitnami chart, TLS, data on a volume)",
  summary:
    "Installs or upgrades bitnami's PostgreSQL chart at the pinned version as release orthanc-db in the Orthanc namespace with helm/postgresql.values.yaml: database and user orthanc, passwords from Secret orthanc-db, self-signed TLS, an 8Gi volume. Waits until its StatefulSet is ready. With --skip-upstream: installs nothing (Orthanc's pods then point at a database that is not there, which only a simulated cluster tolerates).",
  flags: skipUpstreamFlag,
  run: async (ctx) => {
    const release = postgresqlRelease(ctx.settings);
    await requireSecrets(ctx.kube, release.namespace, [credentialSecrets.database]);
    if (skipsUpstream(ctx)) return skipUpstream(ctx, `PostgreSQL (chart ${release.chart} ${release.version})`);
    if (ctx.dryRun) log.info(`values: ${valuesFiles.postgresql}`);
    await ctx.helm.upgradeInstall(release);
    await waitForRollout(ctx.kube, "StatefulSet", postgresqlService(ctx.settings), release.namespace, ctx.settings.timeoutSeconds);
  },
};

if (import.meta.main) await main(task.id, [task]);
