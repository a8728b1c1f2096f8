// Figures of a running real node, read from the kernel and the API server:
// resident memory of each process (VmRSS), how long each pod took from
// creation to Ready, and CPU time per pod from cgroup v1 accounting
// (cpuacct.usage of the pod's kubepods cgroup) — a cost that does not depend on
// how loaded the machine is, unlike wall-clock times.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function residentKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The cpuacct cgroup folder of a pod (any QoS class), by its UID. */
export function podCgroup(uid: string, root = "/sys/fs/cgroup/cpuacct/kubepods"): string | undefined {
  const name = `pod${uid}`;
  for (const dir of [root, join(root, "burstable"), join(root, "besteffort")]) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** CPU seconds a pod's processes have used so far (all its containers). */
export function podCpuSeconds(uid: string): number | undefined {
  const dir = podCgroup(uid);
  if (!dir) return undefined;
  return Number(readFileSync(join(dir, "cpuacct.usage"), "utf8").trim()) / 1e9;
}

export interface PodTiming {
  name: string;
  /** Seconds from creation to the Ready condition. */
  readySeconds: number;
}

interface PodStatus {
  metadata: { name: string; namespace: string; uid: string; creationTimestamp: string };
  status: { conditions?: { type: string; status: string; lastTransitionTime: string }[] };
}

export function readyTimes(pods: readonly PodStatus[]): PodTiming[] {
  return pods.flatMap((pod) => {
    const ready = pod.status.conditions?.find((condition) => condition.type === "Ready" && condition.status === "True");
    if (!ready) return [];
    return [{ name: `${pod.metadata.namespace}/${pod.metadata.name}`, readySeconds: (Date.parse(ready.lastTransitionTime) - Date.parse(pod.metadata.creationTimestamp)) / 1000 }];
  });
}

/** Processes in the node's cgroups (pods), for a sum of their memory. */
export function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (folder: string) => {
    try {
      for (const line of readFileSync(join(folder, "cgroup.procs"), "utf8").split("\n")) if (line.trim()) pids.push(Number(line));
      for (const entry of readdirSync(folder, { withFileTypes: true })) if (entry.isDirectory()) walk(join(folder, entry.name));
    } catch {
      // gone meanwhile
    }
  };
  walk(dir);
  return pids;
}
