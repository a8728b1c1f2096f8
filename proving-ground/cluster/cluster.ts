// Start, inspect and stop the simulated cluster: kwokctl (runtime "binary")
// starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the
// kwok controller as local processes and records each PID in its cluster
// folder; we read those PIDs to report and, on the way down, to make sure every
// process has really exited (by PID, never by name).
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { progress } from "../../tasks/lib/log.ts";
import { isRunning, listeningAddressesOf, readPid, stopPid } from "../../tasks/lib/processes.ts";
import { crdFile } from "./crd-cache.ts";
import { kwokctlConfig, type ControlPlaneOptions } from "./kwok-config.ts";
import { clusterFolder, contextName, type Binaries, type ClusterLayout } from "./layout.ts";

export interface Component {
  /** "kube-apiserver", "etcd", "kwok-controller", … */
  name: string;
  pid: number;
  /** The binary the process must be running (a recycled PID is never signalled). */
  executable: string;
}

/** kwokctl's PID files name the component; its binary is the one we configured. */
function executableOf(name: string, bins: Binaries): string {
  const byName: Record<string, string> = {
    etcd: bins.etcd,
    "kube-apiserver": bins.kubeApiserver,
    "kube-controller-manager": bins.kubeControllerManager,
    "kube-scheduler": bins.kubeScheduler,
    "kwok-controller": bins.kwok,
  };
  const binary = byName[name];
  if (!binary) throw new TaskError(`unexpected component "${name}" in ${name}.pid`, { hint: "the kwokctl configuration starts only etcd, the control plane and kwok" });
  return existsSync(binary) ? realpathSync(binary) : binary;
}

export function components(layout: ClusterLayout, bins: Binaries): Component[] {
  const dir = join(clusterFolder(layout), "pids");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith(".pid"))
    .flatMap((file) => {
      const name = basename(file, ".pid");
      const pid = readPid(join(dir, file));
      return pid === undefined ? [] : [{ name, pid, executable: executableOf(name, bins) }];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export const isAlive = (component: Component) => isRunning(component.pid, component.executable);

export type ClusterState = "absent" | "running" | "stale";

/** absent: never created (or deleted); running: every component alive; stale: created but some process is gone. */
export function clusterState(layout: ClusterLayout, bins: Binaries): ClusterState {
  if (!existsSync(clusterFolder(layout))) return "absent";
  const found = components(layout, bins);
  return found.length > 0 && found.every(isAlive) ? "running" : "stale";
}

/** kwokctl with our work folder and kubeconfig (never ~/.kwok, never ~/.kube/config). */
async function kwokctl(layout: ClusterLayout, bins: Binaries, args: string[], timeoutMs = 300_000): Promise<void> {
  await run(bins.kwokctl, ["--name", layout.name, ...args], {
    env: { KWOK_WORKDIR: layout.kwokWorkDir, KUBECONFIG: layout.kubeconfig, PATH: `${dirname(bins.kubectl)}:${process.env.PATH ?? ""}` },
    timeoutMs,
  });
}

async function kubectl(layout: ClusterLayout, bins: Binaries, args: string[], input?: string): Promise<string> {
  const { stdout } = await run(bins.kubectl, ["--kubeconfig", layout.kubeconfig, "--context", contextName(layout), ...args], {
    silent: true,
    ...(input ? { input } : {}),
  });
  return stdout;
}

export interface StartReport {
  seconds: { start: number; nodes: number; crds: number };
  crdCount: number;
  crdsGenerated: boolean;
  components: Component[];
}

/** Creates and starts the cluster, adds `nodes` simulated nodes, installs the CRDs (established before returning). */
export async function startCluster(layout: ClusterLayout, bins: Binaries, nodes: number, options?: ControlPlaneOptions): Promise<StartReport> {
  mkdirSync(layout.dir, { recursive: true });
  writeFileSync(layout.configFile, kwokctlConfig(layout, bins, options));
  const timed = async (what: string, action: () => Promise<void>): Promise<number> => {
    const started = Date.now();
    const line = progress(what);
    try {
      await action();
    } catch (error) {
      line.fail(`${what}: failed (logs: ${join(clusterFolder(layout), "logs")})`);
      throw error;
    }
    line.done(what);
    return (Date.now() - started) / 1000;
  };
  const start = await timed(`starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (cluster ${layout.name})`, () =>
    kwokctl(layout, bins, ["--config", layout.configFile, "create", "cluster", "--kubeconfig", layout.kubeconfig, "--wait", "2m"]),
  );
  // The real node registers itself (its kubelet): no simulated nodes then.
  const nodeSeconds = nodes === 0 ? 0 : await timed(`adding ${nodes} simulated nodes`, () => kwokctl(layout, bins, ["scale", "node", "--replicas", String(nodes)]));
  let crdCount = 0;
  let crdsGenerated = false;
  const crds = await timed("installing CRDs generated from the kubernetes-models schemas", async () => {
    const file = await crdFile();
    crdsGenerated = file.generated;
    const applied = await kubectl(layout, bins, ["apply", "--server-side", "--field-manager=korthweb", "-f", file.path]);
    crdCount = applied.trim().split("\n").filter(Boolean).length;
    await kubectl(layout, bins, ["wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"]);
  });
  return { seconds: { start, nodes: nodeSeconds, crds }, crdCount, crdsGenerated, components: components(layout, bins) };
}

/** Deletes the cluster (kwokctl stops its processes), then makes sure each recorded PID has exited. */
export async function stopCluster(layout: ClusterLayout, bins: Binaries): Promise<Component[]> {
  const recorded = components(layout, bins);
  if (existsSync(clusterFolder(layout))) {
    await kwokctl(layout, bins, ["delete", "cluster", "--kubeconfig", layout.kubeconfig]);
  }
  for (const component of recorded) await stopPid(component.pid, component.executable, component.name);
  rmSync(layout.kubeconfig, { force: true });
  rmSync(layout.configFile, { force: true });
  return recorded;
}

/** "kube-apiserver (pid 123) 127.0.0.1:32764" lines for the summary. */
export function describeComponents(found: readonly Component[]): string[] {
  return found.map((component) => `${component.name} (pid ${component.pid}) ${listeningAddressesOf(component.pid).join(" ") || "-"}`);
}

export function requireBinaries(bins: Binaries): void {
  const missing = Object.entries(bins).filter(([, path]) => !existsSync(path));
  if (missing.length > 0) {
    throw new TaskError(`the simulated cluster's binaries are not built: ${missing.map(([name]) => name).join(", ")}`, {
      code: "missingTool",
      hint: "run `make cluster-build` (or `make cluster-up`, which builds first)",
    });
  }
}
