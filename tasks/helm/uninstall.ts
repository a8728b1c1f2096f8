// `make helm-uninstall`: removes the three releases, newest first. The
// database volume and the credential Secrets it was initialised with stay
// unless --purge (PURGE=1): a later install then finds its data again.
// Traefik's CRDs stay too (helm never deletes CRDs; other charts may use them).
import { preflight } from "../lib/preflight.ts";
import { log } from "../lib/log.ts";
import { requireNamespaceClaim } from "../lib/namespace-claim.ts";
import { main, type Task } from "../lib/task.ts";
import { credentialSecrets, postgresqlRelease, traefikRelease } from "./releases.ts";

const purging = (flags: Record<string, unknown>) => flags.purge === true || process.env.PURGE === "1";

const checks: Task = {
  id: "helm/uninstall",
  cluster: true,
  title: "Preflight: tools, kube context, cluster version",
  summary: "Checks kubectl, helm and the cluster, and that the Orthanc namespace is not the manual approach's, before removing anything.",
  flags: { purge: { type: "boolean", description: "also delete the database volume, the credential Secrets and the namespace [env PURGE=1]" } },
  run: async (ctx) => {
    await preflight(ctx.kube);
    await requireNamespaceClaim(ctx.kube, ctx.settings.namespaces.orthanc, "helm");
  },
};

const orthanc: Task = {
  id: "helm/uninstall",
  cluster: true,
  title: "Remove the orthanc release (its backup volume stays unless --purge)",
  summary:
    "helm uninstall of the orthanc chart (Deployment, backup CronJob, routes, generated CA and certificate). The backup volume <release>-backups is kept by helm (resource policy keep); with --purge it is deleted too.",
  run: async (ctx) => {
    const { orthanc: release } = ctx.settings.releases;
    const namespace = ctx.settings.namespaces.orthanc;
    await ctx.helm.uninstall(release, namespace);
    if (!purging(ctx.flags)) {
      log.info(`kept: the backup volume (PVC ${release}-backups, the database dumps); add --purge (PURGE=1) to delete it`);
      return;
    }
    // Finished backup and restore Jobs keep their pods (a day, for their logs), and a pod that mounted the
    // volume holds it: delete them and their pods first, or the volume's deletion waits for ever.
    await ctx.kube.deleteSelected("jobs", `app.kubernetes.io/instance=${release},app.kubernetes.io/component=backup`, namespace);
    await ctx.kube.delete("persistentvolumeclaim", `${release}-backups`, namespace);
  },
};

const database: Task = {
  id: "helm/uninstall",
  cluster: true,
  title: "Remove PostgreSQL (its volume stays unless --purge)",
  summary: "helm uninstall of orthanc-db; with --purge also its PersistentVolumeClaims and the credential Secrets.",
  run: async (ctx) => {
    const release = postgresqlRelease(ctx.settings);
    await ctx.helm.uninstall(release.release, release.namespace);
    if (!purging(ctx.flags)) {
      log.info(`kept: the database volume (PVCs of ${release.release}) and Secrets ${Object.values(credentialSecrets).join(", ")}; add --purge (PURGE=1) to delete them`);
      return;
    }
    const claims = await ctx.kube.list<{ metadata: { name: string } }>("persistentvolumeclaim", release.namespace, `app.kubernetes.io/instance=${release.release}`);
    if (ctx.dryRun) log.info(`[dry-run] would delete the PersistentVolumeClaims labelled app.kubernetes.io/instance=${release.release} in ${release.namespace}`);
    for (const claim of claims) await ctx.kube.delete("persistentvolumeclaim", claim.metadata.name, release.namespace);
    for (const name of Object.values(credentialSecrets)) await ctx.kube.delete("secret", name, release.namespace);
  },
};

const traefik: Task = {
  id: "helm/uninstall",
  cluster: true,
  title: "Remove Traefik",
  summary: "helm uninstall of the traefik release (its CRDs stay); with --purge also the Orthanc namespace.",
  run: async (ctx) => {
    const release = traefikRelease(ctx.settings);
    await ctx.helm.uninstall(release.release, release.namespace);
    if (purging(ctx.flags)) await ctx.kube.delete("namespace", ctx.settings.namespaces.orthanc);
    log.ok("the helm approach is uninstalled");
  },
};

export const uninstallSteps = [checks, orthanc, database, traefik];

if (import.meta.main) await main("helm-uninstall", uninstallSteps);
