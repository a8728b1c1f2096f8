// Kubernetes-level faults on the real node, done the way an operator or the
// cluster does them (kubectl delete pod, helm upgrade), and the waits around
// them: the helm approach's Orthanc pods all Ready with none terminating, the
// PostgreSQL stand-in Ready again, the Deployment's Ready count followed
// through a rolling update.
import { readFileSync, writeFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import type { RunResult } from "../../tasks/lib/exec.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { waitUntil } from "../../tasks/lib/wait.ts";

/** kubectl against the real-node cluster (its kubeconfig in the environment). */
export type Kubectl = (args: string[]) => Promise<RunResult>;

const namespace = defaults.namespaces.orthanc;
/** The chart's selector labels of the Orthanc pods. */
export const orthancPodSelector = `app.kubernetes.io/name=orthanc,app.kubernetes.io/instance=${defaults.releases.orthanc},app.kubernetes.io/component=server`;
/** The PostgreSQL stand-in's one pod (StatefulSet <release>-postgresql). */
export const postgresqlPod = `${defaults.releases.postgresql}-postgresql-0`;

export interface PodFacts {
  name: string;
  uid: string;
  ready: boolean;
  terminating: boolean;
  /** The pod template's hash: which ReplicaSet (revision) the pod belongs to. */
  templateHash: string | undefined;
}

interface PodItem {
  metadata: { name: string; uid: string; deletionTimestamp?: string; labels?: Record<string, string> };
  status: { conditions?: { type: string; status: string }[] };
}

const facts = (pod: PodItem): PodFacts => ({
  name: pod.metadata.name,
  uid: pod.metadata.uid,
  ready: pod.status.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false,
  terminating: pod.metadata.deletionTimestamp !== undefined,
  templateHash: pod.metadata.labels?.["pod-template-hash"],
});

async function json<T>(kubectl: Kubectl, args: string[]): Promise<T> {
  const result = await kubectl([...args, "-o", "json"]);
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout) as T;
}

export async function orthancPods(kubectl: Kubectl): Promise<PodFacts[]> {
  return (await json<{ items: PodItem[] }>(kubectl, ["-n", namespace, "get", "pods", "-l", orthancPodSelector])).items.map(facts);
}

/** The Orthanc Deployment's replicas as the chart set them. */
export async function orthancReplicas(kubectl: Kubectl): Promise<number> {
  return (await json<{ spec: { replicas?: number } }>(kubectl, ["-n", namespace, "get", "deployment", defaults.releases.orthanc])).spec.replicas ?? 1;
}

/** Waits until exactly `replicas` Orthanc pods run, all Ready, none terminating (a fault's aftermath is over). */
export async function waitOrthancSettled(kubectl: Kubectl, replicas: number, timeoutMs: number): Promise<PodFacts[]> {
  let pods: PodFacts[] = [];
  await waitUntil({
    what: `${replicas} Orthanc pods Ready and none terminating`,
    timeoutMs,
    intervalMs: 500,
    hint: `kubectl -n ${namespace} get pods -o wide; kubectl -n ${namespace} describe pods`,
    check: async () => {
      pods = await orthancPods(kubectl);
      const settled = pods.length === replicas && pods.every((pod) => pod.ready && !pod.terminating);
      return { done: settled, status: pods.map((pod) => `${pod.name} ${pod.terminating ? "terminating" : pod.ready ? "ready" : "not ready"}`).join(", ") };
    },
  });
  return pods;
}

/** Waits until the PostgreSQL stand-in's pod is a new one (not `oldUid`) and Ready. */
export async function waitPostgresqlBack(kubectl: Kubectl, oldUid: string, timeoutMs: number): Promise<void> {
  await waitUntil({
    what: `a new ${postgresqlPod} Ready`,
    timeoutMs,
    intervalMs: 500,
    hint: `kubectl -n ${namespace} describe pod ${postgresqlPod}`,
    check: async () => {
      const result = await kubectl(["-n", namespace, "get", "pod", postgresqlPod, "-o", "json"]);
      if (result.exitCode !== 0) return { done: false, status: "absent" };
      const pod = facts(JSON.parse(result.stdout) as PodItem);
      return { done: pod.uid !== oldUid && pod.ready && !pod.terminating, status: pod.uid === oldUid ? "the old pod" : pod.ready ? "ready" : "not ready" };
    },
  });
}

export async function podUid(kubectl: Kubectl, name: string): Promise<string> {
  return (await json<PodItem>(kubectl, ["-n", namespace, "get", "pod", name])).metadata.uid;
}

/** Deletes a pod as `kubectl delete pod` does by default (graceful: SIGTERM, then the grace period), without waiting for it to go. */
export async function deletePod(kubectl: Kubectl, name: string): Promise<void> {
  const result = await kubectl(["-n", namespace, "delete", "pod", name, "--wait=false"]);
  if (result.exitCode !== 0) throw new Error(`kubectl delete pod ${name}: ${result.stderr.trim()}`);
}

/**
 * Follows the Deployment's Ready pods (status.readyReplicas, over every ReplicaSet) once a second
 * until stopped: the fewest seen tells whether a rolling update ever left fewer Ready pods than replicas.
 */
export function followReadyReplicas(kubectl: Kubectl): { stop: () => Promise<{ fewest: number; most: number; samples: number }> } {
  const seen: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const result = await kubectl(["-n", namespace, "get", "deployment", defaults.releases.orthanc, "-o", "jsonpath={.status.readyReplicas}"]);
      if (result.exitCode === 0) seen.push(Number(result.stdout.trim() || "0"));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { fewest: Math.min(...seen), most: Math.max(...seen), samples: seen.length };
    },
  };
}

/**
 * A values file for the upgrade: the tier's values (the locally built image) plus one configuration
 * change, Orthanc's Name, which the chart renders into orthanc.json: its checksum annotation changes,
 * so the Deployment rolls, and /system shows the new name once a pod of the new revision answers.
 */
export function writeUpgradeValues(tierValuesFile: string, upgradedFile: string, orthancName: string): void {
  const values = (parse(readFileSync(tierValuesFile, "utf8")) ?? {}) as Record<string, unknown>;
  const orthanc = (values.orthanc ?? {}) as Record<string, unknown>;
  writeFileSync(upgradedFile, `# The real node's values with one configuration change (the fault test's helm upgrade).\n${stringify({ ...values, orthanc: { ...orthanc, name: orthancName } })}`);
}
