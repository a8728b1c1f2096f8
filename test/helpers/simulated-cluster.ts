// The simulated cluster for tests: its own folder and name (a cluster from
// `make cluster-up` is left alone), the install tasks run as a user runs them
// (node tasks/<approach>/install.ts, KUBECONFIG pointing at it), and readings
// of what the API server holds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinaries, startCluster, stopCluster, type StartReport } from "../../proving-ground/cluster/cluster.ts";
import { binaries, clusterLayout, type Binaries, type ClusterLayout } from "../../proving-ground/cluster/layout.ts";
import { run, type RunResult } from "../../tasks/lib/exec.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";

export interface TestCluster {
  layout: ClusterLayout;
  bins: Binaries;
  report: StartReport;
  /** Environment for tools and tasks aimed at this cluster. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestCluster(nodes = 3): Promise<TestCluster> {
  const bins = binaries();
  requireBinaries(bins);
  const dir = mkdtempSync(join(tmpdir(), "korthweb-cluster-"));
  const layout = clusterLayout(dir, "korthweb-test");
  const report = await startCluster(layout, bins, nodes);
  return {
    layout,
    bins,
    report,
    env: { KUBECONFIG: layout.kubeconfig, NO_COLOR: "1" },
    stop: async () => {
      await stopCluster(layout, bins);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `node tasks/<script> args…` against the cluster; never throws (the test reads the exit code). */
export function runTaskScript(cluster: TestCluster, script: string, args: readonly string[], env: Record<string, string> = {}): Promise<RunResult> {
  return run(process.execPath, [fromRoot("tasks", script), ...args], { env: { ...cluster.env, ...env }, allowFailure: true, silent: true, timeoutMs: 600_000 });
}

export async function kubectl(cluster: TestCluster, args: readonly string[], input?: string): Promise<RunResult> {
  return run(cluster.bins.kubectl, args, { env: cluster.env, allowFailure: true, silent: true, ...(input ? { input } : {}) });
}

export async function kubectlJson<T>(cluster: TestCluster, args: readonly string[]): Promise<T> {
  const result = await kubectl(cluster, [...args, "-o", "json"]);
  if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

interface Listed {
  items: { kind: string; metadata: { name: string; namespace?: string; resourceVersion: string; generation?: number } }[];
}

/** Every listable namespaced resource type the server knows (built-in and CRDs), except Events. */
async function namespacedResources(cluster: TestCluster): Promise<string[]> {
  const { stdout } = await kubectl(cluster, ["api-resources", "--verbs=list", "--namespaced", "-o", "name"]);
  return stdout.split("\n").filter((name) => name && !name.startsWith("events"));
}

/**
 * "Kind namespace/name" → resourceVersion of every object in `namespaces`, of the namespaces
 * themselves and of every object of the cluster-scoped `resources` (e.g. clusterissuers.cert-manager.io):
 * equal snapshots before and after a step mean the step changed nothing.
 */
export async function snapshot(cluster: TestCluster, namespaces: readonly string[], clusterScoped: readonly string[] = []): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const resources = (await namespacedResources(cluster)).join(",");
  for (const namespace of namespaces) {
    // Nothing found (or no such namespace): --ignore-not-found prints nothing. Any failure must fail the test, not read as "nothing there".
    const result = await kubectl(cluster, ["get", resources, "-n", namespace, "--ignore-not-found", "-o", "json"]);
    if (result.exitCode !== 0) throw new Error(`kubectl get … -n ${namespace}: ${result.stderr}`);
    const listed: Listed = result.stdout.trim() ? (JSON.parse(result.stdout) as Listed) : { items: [] };
    for (const item of listed.items) out.set(`${item.kind} ${namespace}/${item.metadata.name}`, item.metadata.resourceVersion);
  }
  const listedNamespaces = await kubectlJson<Listed>(cluster, ["get", "namespaces"]);
  for (const item of listedNamespaces.items) if (namespaces.includes(item.metadata.name)) out.set(`Namespace ${item.metadata.name}`, item.metadata.resourceVersion);
  for (const resource of clusterScoped) {
    for (const item of (await kubectlJson<Listed>(cluster, ["get", resource])).items) out.set(`${item.kind} ${item.metadata.name}`, item.metadata.resourceVersion);
  }
  return out;
}

/** Entries that differ between two snapshots (added, removed or changed), for a readable failure. */
export function snapshotDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].sort().filter((key) => before.get(key) !== after.get(key)).map((key) => `${key}: ${before.get(key) ?? "absent"} → ${after.get(key) ?? "absent"}`);
}
