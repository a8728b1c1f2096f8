import { describe, expect, it } from "vitest";
import { conditionStatus, loadBalancerAddress, rolloutStatus } from "../../tasks/lib/kube-status.ts";

describe("rolloutStatus", () => {
  it("waits until the controller has seen the latest generation", () => {
    const object = { metadata: { generation: 3 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } };
    expect(rolloutStatus("Deployment", object)).toMatchObject({ done: false, status: expect.stringContaining("latest spec") });
  });

  it("reports partial availability, then done", () => {
    const partial = { metadata: { generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } };
    expect(rolloutStatus("Deployment", partial)).toEqual({ done: false, status: "1/2 available, 2 updated" });
    const full = { ...partial, status: { ...partial.status, availableReplicas: 2 } };
    expect(rolloutStatus("Deployment", full).done).toBe(true);
  });

  it("is not done while old pods are still around during a surge", () => {
    const surge = { metadata: { generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 3, updatedReplicas: 2, availableReplicas: 2 } };
    expect(rolloutStatus("Deployment", surge).done).toBe(false);
  });

  it("surfaces a stalled rollout", () => {
    const stalled = {
      metadata: { generation: 1 },
      spec: { replicas: 1 },
      status: { observedGeneration: 1, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: "took too long" }] },
    };
    expect(rolloutStatus("Deployment", stalled).status).toContain("ProgressDeadlineExceeded");
  });

  it("handles StatefulSet revisions and DaemonSets", () => {
    const sts = { metadata: { generation: 1 }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, currentRevision: "a", updateRevision: "b" } };
    expect(rolloutStatus("StatefulSet", sts).done).toBe(false);
    expect(rolloutStatus("StatefulSet", { ...sts, status: { ...sts.status, currentRevision: "b" } }).done).toBe(true);
    const ds = { metadata: { generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 3, numberAvailable: 3, updatedNumberScheduled: 3 } };
    expect(rolloutStatus("DaemonSet", ds)).toEqual({ done: true, status: "3/3 pods available" });
  });
});

describe("conditionStatus", () => {
  it("needs the condition to exist and be True", () => {
    expect(conditionStatus({})).toEqual({ done: false, status: "no Ready condition yet" });
    const notReady = { status: { conditions: [{ type: "Ready", status: "False", reason: "InstallFailed", message: "boom" }] } };
    expect(conditionStatus(notReady)).toEqual({ done: false, status: "Ready=False (InstallFailed: boom)" });
    expect(conditionStatus({ status: { conditions: [{ type: "Ready", status: "True" }] } }).done).toBe(true);
    expect(conditionStatus({ status: { conditions: [{ type: "Established", status: "True" }] } }, "Established").done).toBe(true);
  });
});

describe("loadBalancerAddress", () => {
  it("reads the first ingress entry: its IP, else its host name; nothing before the load balancer answers", () => {
    expect(loadBalancerAddress({ status: { loadBalancer: { ingress: [{ ip: "203.0.113.7", hostname: "lb.example.net" }, { ip: "203.0.113.8" }] } } })).toBe("203.0.113.7");
    expect(loadBalancerAddress({ status: { loadBalancer: { ingress: [{ hostname: "lb.example.net" }] } } })).toBe("lb.example.net");
    expect(loadBalancerAddress({ status: { loadBalancer: { ingress: [] } } })).toBeUndefined();
    expect(loadBalancerAddress({ status: { loadBalancer: {} } })).toBeUndefined();
    expect(loadBalancerAddress(undefined)).toBeUndefined();
  });
});
