// The decision of requireNamespaceClaim on each kind of namespace. The real
// API server version of this (helm over manual and back, nothing changed) is in
// test/cluster/simulated-cluster.test.ts.
import { describe, expect, it } from "vitest";
import type { Kube } from "../../tasks/lib/kube.ts";
import { approachLabel, requireNamespaceClaim } from "../../tasks/lib/namespace-claim.ts";
import { useCapturedLog } from "../helpers/log.ts";

/** A Kube whose only namespace read returns `labels` (or nothing: the namespace does not exist). */
const kubeWith = (labels: Record<string, string> | undefined, dryRun = false) =>
  ({ dryRun, get: async () => (labels === undefined ? undefined : { metadata: { labels } }) }) as unknown as Kube;

describe("requireNamespaceClaim", () => {
  const lines = useCapturedLog();

  it("accepts a namespace that does not exist yet, or carries no claim", async () => {
    await requireNamespaceClaim(kubeWith(undefined), "orthanc", "helm");
    await requireNamespaceClaim(kubeWith({ "istio-injection": "enabled" }), "orthanc", "manual");
    expect(lines.join("\n")).toContain("namespace orthanc: free");
  });

  it("accepts the approach's own namespace (re-runs)", async () => {
    await requireNamespaceClaim(kubeWith({ [approachLabel]: "manual" }), "orthanc", "manual");
    expect(lines.join("\n")).toContain("already the manual approach's");
  });

  it("stops with exit 11 on another approach's namespace, naming it and its uninstall command", async () => {
    await expect(requireNamespaceClaim(kubeWith({ [approachLabel]: "helm" }), "orthanc", "manual")).rejects.toMatchObject({
      exitCode: 11,
      message: expect.stringContaining("namespace orthanc belongs to the helm approach"),
      hint: expect.stringContaining("make helm-uninstall"),
    });
  });

  it("names an unknown owner as it is", async () => {
    await expect(requireNamespaceClaim(kubeWith({ [approachLabel]: "argo" }), "orthanc", "helm")).rejects.toMatchObject({
      exitCode: 11,
      hint: expect.stringContaining("the argo install"),
    });
  });

  it("reads nothing in dry-run (the plan touches no cluster)", async () => {
    let reads = 0;
    const kube = { dryRun: true, get: async () => (reads++, undefined) } as unknown as Kube;
    await requireNamespaceClaim(kube, "orthanc", "manual");
    expect(reads).toBe(0);
    expect(lines).toEqual([]);
  });
});
