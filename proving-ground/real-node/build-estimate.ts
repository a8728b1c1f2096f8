// What the first `make demo` (or cluster-up --real-node) still has to build,
// and about how long that takes on this kind of machine, so a user facing a
// long first build knows what is coming before it starts. Figures are cold
// builds measured on the reference VM (2 cores, Debian bookworm, Go module
// proxy and Debian mirror on the network); see docs/cluster.md. An item
// without a measured figure counts with `unmeasuredMinutes`.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { binaries } from "../cluster/layout.ts";
import { isComponentBuilt, nodeBinaries, type ComponentName } from "./builds.ts";
import { imageSpecs, recipeKey } from "./images.ts";
import { nodeCache } from "./layout.ts";

/**
 * Cold build minutes on the reference VM (docs/cluster.md, "Cold build"),
 * measured 2026-12-07 with empty Go and korthweb caches, rounded up. The
 * kubelet shares most compiled packages with the control plane, which is
 * always built first: alone it would take about as long as the control plane.
 */
export const coldBuildMinutes: Record<string, number> = {
  "control plane": 10, // kube-apiserver, controller manager, scheduler 500 s + etcd 64 s
  "kwok, kwokctl": 3, // 142 s + 28 s
  "kubelet, kube-proxy": 1, // 47 s after the control plane
  coredns: 4, // 215 s
  metallb: 3, // 175 s
  localPathProvisioner: 3, // 131 s
  traefik: 10, // 560 s
  "image orthanc": 2, // 67 s (mmdebstrap, Debian sid)
  "image postgresql": 2, // 63 s (mmdebstrap, bookworm)
};
export const unmeasuredMinutes = 10;

export interface PendingBuild {
  item: string;
  minutes: number;
}

const withStamp = (files: string[]) => files.every((file) => existsSync(file)) && existsSync(join(files[0]!, "..", ".stamp"));

/** The builds still missing from the cache, each with its estimated minutes. */
export function pendingBuilds(): PendingBuild[] {
  const pending: string[] = [];
  const control = binaries();
  if (!withStamp([control.kubeApiserver, control.kubeControllerManager, control.kubeScheduler])) pending.push("control plane");
  if (!existsSync(control.kwok) || !existsSync(control.kwokctl)) pending.push("kwok, kwokctl");
  const node = nodeBinaries();
  if (!withStamp([node.kubelet, node.kubeProxy])) pending.push("kubelet, kube-proxy");
  for (const [name, output] of Object.entries(node.components) as [ComponentName, string][]) if (!isComponentBuilt(name, output)) pending.push(name);
  // Images from Debian packages take minutes; images of a built binary take seconds (not counted).
  for (const spec of imageSpecs(node)) {
    if (spec.recipe.kind !== "debian") continue;
    if (!existsSync(join(nodeCache().images, `${spec.name}-${recipeKey(spec)}.oci.tar`))) pending.push(`image ${spec.name}`);
  }
  return pending.map((item) => ({ item, minutes: coldBuildMinutes[item] ?? unmeasuredMinutes }));
}

/** One line for the user: nothing to build, or what and about how long. */
export function describePending(pending: readonly PendingBuild[]): string {
  if (pending.length === 0) return "everything the real node runs is built already (cached): start takes about 2 minutes";
  const total = pending.reduce((sum, build) => sum + build.minutes, 0);
  return (
    `first build: ${pending.map((build) => build.item).join(", ")} — about ${total} min on 2 cores (more on a busy machine), ` +
    "once: later runs start from the cache in about 2 minutes"
  );
}
