// Pure readings of object status: is this rollout finished, is that condition
// true? Kept free of I/O so they are tested on recorded objects.
import type { CheckResult } from "./wait.ts";

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface Workload {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    numberAvailable?: number;
    updatedNumberScheduled?: number;
    conditions?: Condition[];
  };
}

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet";

export function rolloutStatus(kind: WorkloadKind, object: Workload): CheckResult {
  const status = object.status ?? {};
  const generation = object.metadata?.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) return { done: false, status: "controller has not seen the latest spec yet" };
  if (kind === "DaemonSet") {
    const desired = status.desiredNumberScheduled ?? 0;
    const available = status.numberAvailable ?? 0;
    const updated = status.updatedNumberScheduled ?? 0;
    return { done: desired > 0 && available === desired && updated === desired, status: `${available}/${desired} pods available` };
  }
  const wanted = object.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const ready = kind === "Deployment" ? (status.availableReplicas ?? 0) : (status.readyReplicas ?? 0);
  const total = status.replicas ?? 0;
  if (kind === "Deployment") {
    const stalled = status.conditions?.find((c) => c.type === "Progressing" && c.status === "False");
    if (stalled) return { done: false, status: `not progressing: ${stalled.reason ?? ""} ${stalled.message ?? ""}`.trim() };
  }
  if (kind === "StatefulSet" && status.updateRevision && status.currentRevision !== status.updateRevision) {
    return { done: false, status: `${updated}/${wanted} pods updated` };
  }
  const done = updated === wanted && ready === wanted && total === wanted;
  return { done, status: `${ready}/${wanted} ${kind === "Deployment" ? "available" : "ready"}, ${updated} updated` };
}

export interface LoadBalancerStatus {
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** The LoadBalancer address of a Service (IP, else host name), if it has one yet. */
export const loadBalancerAddress = (service: LoadBalancerStatus | undefined): string | undefined => {
  const first = service?.status?.loadBalancer?.ingress?.[0];
  return first?.ip ?? first?.hostname;
};

/** Done when the condition of that type has the wanted status (Ready=True by default). */
export function conditionStatus(object: { status?: { conditions?: Condition[] } }, type = "Ready", wanted = "True"): CheckResult {
  const condition = object.status?.conditions?.find((c) => c.type === type);
  if (!condition) return { done: false, status: `no ${type} condition yet` };
  const detail = [condition.reason, condition.message].filter(Boolean).join(": ");
  return { done: condition.status === wanted, status: `${type}=${condition.status}${detail ? ` (${detail})` : ""}` };
}
