// Waits on cluster objects: CRDs established, workloads rolled out, custom
// resources Ready. Each prints a progress line and fails with what it waited for.
import type { Kube } from "./kube.ts";
import { conditionStatus, rolloutStatus, type Workload, type WorkloadKind } from "./kube-status.ts";
import { log, style } from "./log.ts";
import { waitUntil } from "./wait.ts";

const dryRunNote = (kube: Kube, what: string): boolean => {
  if (!kube.dryRun) return false;
  log.info(`${style.yellow("[dry-run]")} would wait for ${what}`);
  return true;
};

export async function waitForRollout(kube: Kube, kind: WorkloadKind, name: string, namespace: string, timeoutSeconds: number): Promise<void> {
  const what = `${kind} ${namespace}/${name} to roll out`;
  if (dryRunNote(kube, what)) return;
  await waitUntil({
    what,
    timeoutMs: timeoutSeconds * 1000,
    hint: `kubectl -n ${namespace} describe ${kind.toLowerCase()} ${name}; kubectl -n ${namespace} get events --sort-by=.lastTimestamp`,
    check: async () => {
      const object = await kube.get<Workload>(kind, name, namespace);
      return object ? rolloutStatus(kind, object) : { done: false, status: "not created yet" };
    },
  });
}

export async function waitForCondition(
  kube: Kube,
  kind: string,
  name: string,
  namespace: string | undefined,
  timeoutSeconds: number,
  condition = "Ready",
): Promise<void> {
  const where = namespace ? `${namespace}/${name}` : name;
  const what = `${kind} ${where} to be ${condition}`;
  if (dryRunNote(kube, what)) return;
  await waitUntil({
    what,
    timeoutMs: timeoutSeconds * 1000,
    hint: `kubectl ${namespace ? `-n ${namespace} ` : ""}describe ${kind} ${name}`,
    check: async () => {
      const object = await kube.get<{ status?: { conditions?: [] } }>(kind, name, namespace);
      return object ? conditionStatus(object, condition) : { done: false, status: "not created yet" };
    },
  });
}

export async function waitForCrds(kube: Kube, names: readonly string[], timeoutSeconds: number): Promise<void> {
  const what = `CRDs ${names.join(", ")} to be established`;
  if (dryRunNote(kube, what)) return;
  await waitUntil({
    what,
    timeoutMs: timeoutSeconds * 1000,
    check: async () => {
      const missing = await kube.missingCrds(names);
      return { done: missing.length === 0, status: missing.length ? `missing ${missing.join(", ")}` : "all present" };
    },
  });
}
