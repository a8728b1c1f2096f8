// The cluster path of make backup / make restore, short of running pods:
// the Jobs it makes from the chart's CronJob (same pod, Pod Security
// "restricted", admitted to PostgreSQL by the chart's NetworkPolicies), the
// dry-run plans and input errors, and a backup against the stand-in API
// server (test/helpers/fake-cluster.ts: it stores objects, runs no pods).
import { afterEach, describe, expect, it } from "vitest";
import { backupTask } from "../../tasks/backup/backup.ts";
import { backupJob, clusterBackup, restoreJob } from "../../tasks/backup/cluster.ts";
import { restoreTask } from "../../tasks/backup/restore.ts";
import { localBackupTask } from "../../proving-ground/local/backup-cli.ts";
import { localRestoreTask } from "../../proving-ground/local/restore-cli.ts";
import { Kube } from "../../tasks/lib/kube.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { networkFlows, type Pod } from "../../proving-ground/checks/network-policy.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { validateObjects } from "../../proving-ground/validate/validate.ts";
import { as, find, ofKind, render } from "../helpers/chart.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { startFakeCluster } from "../helpers/fake-cluster.ts";
import { useCapturedLog } from "../helpers/log.ts";

const lines = useCapturedLog();
const admin = { name: "orthanc-db", key: "postgres-password", user: "postgres" };
const env = { RESTORE_DATABASE: "orthanc", RESTORE_OWNER: "orthanc", RESTORE_REPLACE: "" };

describe("Jobs made from the chart's backup CronJob", () => {
  it("a backup Job runs the CronJob's pod as it is", async () => {
    const cronJob = find(await render(), "CronJob", "orthanc-backup");
    const job = backupJob(cronJob, "orthanc-backup-now");
    expect(as(job.spec).template).toEqual(as(cronJob.spec).jobTemplate.spec.template);
    expect(as(job.metadata).labels).toMatchObject({ "app.kubernetes.io/component": "backup" });
  });

  it("a Job made from a stored CronJob is owned by it (as kubectl's are): removing the release removes the Job and its pod", async () => {
    const rendered = find(await render(), "CronJob", "orthanc-backup");
    const stored = { ...rendered, metadata: { ...rendered.metadata, uid: "0b7c2f1e-5d52-4b8e-9d7a-1c2e3f4a5b6c" } };
    expect(as(backupJob(stored, "orthanc-backup-now").metadata).ownerReferences).toEqual([
      { apiVersion: "batch/v1", kind: "CronJob", name: "orthanc-backup", uid: "0b7c2f1e-5d52-4b8e-9d7a-1c2e3f4a5b6c", controller: true },
    ]);
    // Rendered only (no uid: dry runs, validation): no dangling reference.
    expect(as(backupJob(rendered, "orthanc-backup-now").metadata).ownerReferences).toBeUndefined();
  });

  it("a restore Job: restore.sh in the dump container with the superuser's password, nothing else; restricted and valid", async () => {
    for (const values of [{}, { backup: { s3: { enabled: true, endpoint: "https://s3.example.org", bucket: "b-1", existingSecret: "s3" } } }]) {
      const cronJob = find(await render({ values }), "CronJob", "orthanc-backup");
      const job = restoreJob(cronJob, "orthanc-restore-load", ["load", "/backups/orthanc-20261207T021700Z.dump", "orthanc_restore_x"], env, admin);
      const pod = as(job.spec).template.spec;
      expect(pod.initContainers).toBeUndefined();
      expect(pod.containers.map((c: { name: string }) => c.name)).toEqual(["restore"]);
      const container = pod.containers[0];
      expect(container.command).toEqual(["/bin/bash", "/opt/korthweb/restore.sh", "load", "/backups/orthanc-20261207T021700Z.dump", "orthanc_restore_x"]);
      const byName = Object.fromEntries(container.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
      expect(byName).toMatchObject({ PGHOST: "orthanc-db-postgresql", PGUSER: "postgres", PGPASSWORD: { secretKeyRef: { name: "orthanc-db", key: "postgres-password" } }, RESTORE_DATABASE: "orthanc" });
      expect(Object.keys(byName)).not.toContain("BACKUP_DIR");
      expect(as(job.spec).backoffLimit).toBe(0);
      const findings = await validateObjects([{ object: job, source: "restoreJob", index: 0 }], { committed: false });
      expect(findings).toEqual([]);
    }
  });

  it("its pod is admitted to PostgreSQL by the chart's NetworkPolicies, as the backups are", async () => {
    const objects = await render();
    const cronJob = find(objects, "CronJob", "orthanc-backup");
    const job = restoreJob(cronJob, "r", ["switch", "x"], env, admin);
    const pods: Pod[] = [
      { name: "restore", namespace: "orthanc", labels: as(job.spec).template.metadata.labels, ports: [] },
      { name: "postgresql", namespace: "orthanc", labels: { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "orthanc-db" }, ports: [5432] },
    ];
    expect(networkFlows(ofKind(objects, "NetworkPolicy"), pods)).toEqual(["restore -> postgresql:5432"]);
  });

  it("refuses a CronJob that is not the chart's", () => {
    const other: KubeObject = { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "x" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "main" }] } } } } } };
    expect(() => restoreJob(other, "r", [], env, admin)).toThrow(/has no container "dump"/);
  });
});

describe("make backup / make restore: plans and input errors (no cluster touched)", () => {
  const output = () => lines.join("\n");

  it("backup (cluster) --dry-run: the Job it would create from the CronJob", async () => {
    expect(await runTasks("backup", [backupTask], ["--dry-run"])).toBe(0);
    expect(output()).toMatch(/would create Job orthanc\/orthanc-backup-\d{8}-\d{6} from CronJob orthanc-backup/);
  });

  it("restore (cluster) --dry-run: load while serving, stop, switch keeping the old database, start, verify", async () => {
    expect(await runTasks("restore", [restoreTask], ["--from", "orthanc-20261207T021700Z.dump", "--dry-run"])).toBe(0);
    const text = output();
    expect(text).toContain("restore.sh load /backups/orthanc-20261207T021700Z.dump orthanc_restore_");
    expect(text).toContain("refuses a database holding data");
    expect(text).toContain("scale Deployment orthanc/orthanc to 0");
    expect(text).toMatch(/"orthanc" → "orthanc_before_<time>" \(kept\)/);
    expect(text).toContain("GET /changes?last");
  });

  it.each([
    [[], "FROM is required"],
    [["--from", "/etc/passwd", "--dry-run"], 'FROM: "/etc/passwd" is not a dump name on the backup volume'],
    [["--from", "x", "--target", "kube"], "Unknown option '--target'"],
  ])("restore %j → exit 2: %s", async (args, message) => {
    expect(await runTasks("restore", [restoreTask], args)).toBe(2);
    expect(output()).toContain(message);
  });

  it("local backup --keep 0 → exit 2 before anything runs", async () => {
    expect(await runTasks("backup", [localBackupTask], ["--keep", "0"])).toBe(2);
    expect(output()).toContain('invalid --keep "0"');
    expect(await runTasks("restore", [localRestoreTask], [])).toBe(2);
    expect(output()).toContain("FROM is required");
  });
});

describe("backup (cluster) against the stand-in API server", () => {
  const saved = process.env.KUBECONFIG;
  afterEach(() => {
    process.env.KUBECONFIG = saved;
  });

  it("creates the Job from the CronJob, waits for it, and reads the dump's place from its log (which the stand-in cannot serve)", async () => {
    const cronJob = find(await render(), "CronJob", "orthanc-backup");
    const cluster = await startFakeCluster({ objects: [cronJob] });
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    // The stand-in runs no pods: mark the Job complete once it exists, as the Job controller would.
    const timer = setInterval(() => {
      const job = cluster.objects().find((o) => o.kind === "Job");
      if (job && !as(job).status) cluster.setObjects([...cluster.objects().filter((o) => o !== job), { ...job, status: { conditions: [{ type: "Complete", status: "True" }] } }]);
    }, 100);
    try {
      await expect(clusterBackup(new Kube({ context: undefined, dryRun: false }), { namespace: "orthanc", release: "orthanc", timeoutSeconds: 20 })).rejects.toThrow(/the backup script ended without saying where the dump is/);
      const job = cluster.objects().find((o) => o.kind === "Job")!;
      expect(as(job.spec).template).toEqual(as(cronJob.spec).jobTemplate.spec.template);
      expect(cluster.requests.some((line) => /^PATCH \/apis\/batch\/v1\/namespaces\/orthanc\/jobs\/orthanc-backup-\d{8}-\d{6}/.test(line))).toBe(true);
    } finally {
      clearInterval(timer);
      await cluster.close();
    }
  }, 60_000);
});
