// Backup and restore on a cluster, with the objects the chart installed: a
// backup is a Job made from the chart's CronJob <release>-backup (its pod, as
// is); a restore runs the chart's restore.sh in Jobs made from the same pod
// (image, backup volume, scripts, Pod Security "restricted", the labels and
// service account the NetworkPolicies and Istio policies admit to PostgreSQL)
// with the database's admin password, scales Orthanc to zero for the switch
// only, and checks Orthanc answers on the restored data.
import { TaskError } from "../lib/errors.ts";
import type { Kube } from "../lib/kube.ts";
import { waitForRollout } from "../lib/kube-wait.ts";
import { log, style } from "../lib/log.ts";
import type { KubeObject } from "../lib/manifests.ts";
import { record, text } from "../lib/values.ts";
import { waitUntil } from "../lib/wait.ts";
import { dumpName, markerLine, parseBackupOutput, restoreDatabaseName, type BackupResult } from "./scripts.ts";

export interface ClusterTarget {
  namespace: string;
  /** The orthanc chart's release: CronJob <release>-backup, Deployment <release>. */
  release: string;
  timeoutSeconds: number;
}

export interface AdminSecret {
  /** Secret and key of the database superuser's password (bitnami: orthanc-db, postgres-password). */
  name: string;
  key: string;
  user: string;
}

const stamp = (now = new Date()) => now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").toLowerCase().replace("t", "-");

type Json = Record<string, any>;

/** A Job running the CronJob's pod as it is (what `kubectl create job --from=cronjob/…` does). */
export function backupJob(cronJob: KubeObject, name: string): KubeObject {
  const template = record(record(cronJob.spec).jobTemplate) as Json;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: cronJob.metadata?.namespace,
      labels: { ...(template.metadata?.labels ?? {}), "korthweb.io/run": "on-demand" },
      annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
      // Owned by the CronJob, as kubectl's Jobs are: removing the release removes them and their pods.
      ...(cronJob.metadata?.uid ? { ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: String(cronJob.metadata.name), uid: String(cronJob.metadata.uid), controller: true }] } : {}),
    },
    spec: { ...structuredClone(template.spec), ttlSecondsAfterFinished: 86_400 },
  };
}

/**
 * A Job running restore.sh `args` in the CronJob's dump container: same image, volumes and security, the
 * superuser's password instead of Orthanc's, no S3 upload container.
 */
export function restoreJob(cronJob: KubeObject, name: string, args: readonly string[], env: Record<string, string>, admin: AdminSecret): KubeObject {
  const job = backupJob(cronJob, name) as Json;
  const pod = job.spec.template.spec;
  const dump = [...(pod.initContainers ?? []), ...pod.containers].find((c: Json) => c.name === "dump");
  if (!dump) throw new TaskError(`CronJob ${cronJob.metadata?.name} has no container "dump": not the orthanc chart's backup CronJob`);
  const kept = (dump.env as Json[]).filter((e) => ["PGHOST", "PGPORT", "PGSSLMODE", "PGCONNECT_TIMEOUT"].includes(e.name));
  delete pod.initContainers;
  pod.containers = [
    {
      ...dump,
      name: "restore",
      command: ["/bin/bash", "/opt/korthweb/restore.sh", ...args],
      env: [
        ...kept,
        { name: "PGUSER", value: admin.user },
        { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: admin.name, key: admin.key } } },
        ...Object.entries(env).map(([key, value]) => ({ name: key, value })),
      ],
    },
  ];
  job.metadata.labels["korthweb.io/run"] = "restore";
  job.spec.backoffLimit = 0;
  return job;
}

/** Waits for a Job to succeed (or fail) and returns its pod's log. */
async function runJob(kube: Kube, job: KubeObject, target: ClusterTarget, what: string): Promise<string> {
  const name = String(job.metadata?.name);
  await kube.apply([job], what);
  let outcome: "Complete" | "Failed" | undefined;
  await waitUntil({
    what: `Job ${target.namespace}/${name} (${what})`,
    timeoutMs: target.timeoutSeconds * 1000,
    hint: `kubectl -n ${target.namespace} describe job ${name}; kubectl -n ${target.namespace} logs job/${name}`,
    check: async () => {
      const current = await kube.get<Json>("job", name, target.namespace);
      const conditions = (current?.status?.conditions ?? []) as Json[];
      const finished = conditions.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
      outcome = finished?.type;
      return { done: finished !== undefined, status: finished ? String(finished.type) : `active ${current?.status?.active ?? 0}` };
    },
  });
  const logs = (await kube.kubectl(["-n", target.namespace, "logs", `job/${name}`, "--all-containers"], { allowFailure: true, silent: true })).stdout;
  if (outcome === "Failed") throw new TaskError(`Job ${target.namespace}/${name} (${what}) failed; its log:\n${logs.trim().split("\n").slice(-12).join("\n")}`, { hint: `kubectl -n ${target.namespace} describe job ${name}` });
  return logs;
}

async function backupCronJob(kube: Kube, target: ClusterTarget): Promise<KubeObject> {
  const name = `${target.release}-backup`;
  const cronJob = await kube.get("cronjob", name, target.namespace);
  if (!cronJob) throw new TaskError(`no CronJob ${target.namespace}/${name}`, { hint: "install the orthanc chart with backup.enabled true (the default), or pass --namespace/--release" });
  return cronJob;
}

/** One backup now, from the chart's CronJob; returns the dump's path on the backup volume and its size. */
export async function clusterBackup(kube: Kube, target: ClusterTarget): Promise<BackupResult | undefined> {
  const name = `${target.release}-backup-${stamp()}`;
  if (kube.dryRun) {
    log.info(`${style.yellow("[dry-run]")} would create Job ${target.namespace}/${name} from CronJob ${target.release}-backup, wait for it and read the dump's path and size from its log`);
    return undefined;
  }
  const logs = await runJob(kube, backupJob(await backupCronJob(kube, target), name), target, "backup now");
  return parseBackupOutput(logs);
}

export interface ClusterRestoreOptions {
  /** A dump on the backup volume: its file name (orthanc-….dump). */
  from: string;
  replace: boolean;
  admin: AdminSecret;
  /** The database Orthanc uses and its owner (chart values database.name, database.user). */
  database: string;
  owner: string;
}

/** Restores a dump from the backup volume: load into a new database, stop Orthanc, switch, start, verify. */
export async function clusterRestore(kube: Kube, target: ClusterTarget, options: ClusterRestoreOptions): Promise<void> {
  const file = options.from.replace(/^\/backups\//, "");
  if (!dumpName.test(file)) throw new TaskError(`FROM: "${options.from}" is not a dump name on the backup volume (orthanc-YYYYMMDDTHHMMSSZ.dump)`, { code: "usage", hint: `list them: kubectl -n ${target.namespace} logs -l app.kubernetes.io/component=backup --tail=1` });
  const newDatabase = restoreDatabaseName(options.database);
  const env = { RESTORE_DATABASE: options.database, RESTORE_OWNER: options.owner, RESTORE_REPLACE: options.replace ? "yes" : "" };
  const jobName = (phase: string) => `${target.release}-restore-${phase}-${stamp()}`;
  if (kube.dryRun) {
    for (const step of [
      `run Job ${jobName("load")} (restore.sh load /backups/${file} ${newDatabase}) as ${options.admin.user} with Secret ${options.admin.name} key ${options.admin.key}: refuses a database holding data${options.replace ? " (replace confirmed)" : ""}; loads and checks the new database while Orthanc serves`,
      `scale Deployment ${target.namespace}/${target.release} to 0 and wait for its pods to stop (the writers)`,
      `run Job ${jobName("switch")} (restore.sh switch ${newDatabase}): "${options.database}" → "${options.database}_before_<time>" (kept), "${newDatabase}" → "${options.database}"`,
      `scale the Deployment back, wait for the rollout, and check GET /changes?last answers 200 in a pod`,
    ]) log.info(`${style.yellow("[dry-run]")} would ${step}`);
    return;
  }
  const cronJob = await backupCronJob(kube, target);
  const loaded = await runJob(kube, restoreJob(cronJob, jobName("load"), ["load", `/backups/${file}`, newDatabase], env, options.admin), target, `load ${file}`).catch((error: unknown) => {
    if (error instanceof TaskError && /holds \d+ Orthanc resources/.test(error.message)) {
      throw new TaskError(`database "${options.database}" holds data; a restore replaces it`, { code: "usage", hint: "confirm with --yes-replace (make restore … CONFIRM=1): the current data is kept, renamed, never dropped" });
    }
    throw error;
  });
  log.ok(`"${newDatabase}" loaded: ${markerLine(loaded, "KORTHWEB_RESTORE_LOADED")?.largeObjects ?? "?"} large objects`);
  const deployment = await kube.get<Json>("deployment", target.release, target.namespace);
  if (!deployment) throw new TaskError(`no Deployment ${target.namespace}/${target.release}`);
  const replicas = Number(deployment.spec?.replicas ?? 1);
  await kube.kubectl(["-n", target.namespace, "scale", `deployment/${target.release}`, "--replicas=0"]);
  const selector = Object.entries(record(record(deployment.spec).selector).matchLabels ?? {}).map(([k, v]) => `${k}=${text(v)}`).join(",");
  await waitUntil({
    what: `Orthanc's pods in ${target.namespace} to stop`,
    timeoutMs: target.timeoutSeconds * 1000,
    check: async () => {
      const pods = await kube.list("pod", target.namespace, selector);
      return { done: pods.length === 0, status: `${pods.length} left` };
    },
  });
  try {
    const switched = await runJob(kube, restoreJob(cronJob, jobName("switch"), ["switch", newDatabase], env, options.admin), target, "switch databases");
    log.ok(`"${options.database}" is the restored data; the previous is kept as "${markerLine(switched, "KORTHWEB_RESTORE_SWITCHED")?.previous ?? "?"}"`);
  } finally {
    // Orthanc comes back whatever happened: on failure, on the database it had.
    await kube.kubectl(["-n", target.namespace, "scale", `deployment/${target.release}`, `--replicas=${replicas}`]);
  }
  await waitForRollout(kube, "Deployment", target.release, target.namespace, target.timeoutSeconds);
  await kube.kubectl(["-n", target.namespace, "exec", `deployment/${target.release}`, "-c", "orthanc", "--", "python3", "/opt/korthweb/probe.py", "/changes?last"]);
  log.ok("Orthanc answers on the restored database (GET /changes?last: 200)");
}
