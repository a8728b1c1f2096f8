// Starts and stops the real node's processes: containerd (our config, our
// paths), the kubelet and kube-proxy, each detached with a PID file and a log
// in the node's folder, and recognised by its executable when stopped (never
// by name). Stopping also ends what they leave running: the pods' processes
// (found in the kubelet's cgroups) and containerd's shims (found by our
// containerd socket on their command line).
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { isRunning, readPid, startDetached, stopPid } from "../../tasks/lib/processes.ts";
import { waitUntil } from "../../tasks/lib/wait.ts";
import type { NodeBinaries } from "./builds.ts";
import { kubeletCgroups, processesInCgroups } from "./host-changes.ts";
import { addresses, nodeName, type NodeLayout } from "./layout.ts";
import { cniConflist, containerdConfig, kubeletConfig, kubeProxyConfig, nodeResolvConf } from "./node-config.ts";

export interface NodeProcess {
  name: "containerd" | "kubelet" | "kube-proxy" | "apiserver-forwarder";
  executable: string;
}

const which = (command: string) => {
  for (const dir of (process.env.PATH ?? "/usr/bin:/usr/sbin").split(":").concat(["/usr/bin", "/usr/sbin"])) {
    if (existsSync(join(dir, command))) return realpathSync(join(dir, command));
  }
  throw new TaskError(`${command} is not installed`, { code: "missingTool", hint: "make cluster-up ARGS=--real-node installs it (Debian package)" });
};

export function nodeProcesses(bins: NodeBinaries): NodeProcess[] {
  return [
    { name: "containerd", executable: existsSync("/usr/bin/containerd") ? realpathSync("/usr/bin/containerd") : "/usr/bin/containerd" },
    { name: "kubelet", executable: existsSync(bins.kubelet) ? realpathSync(bins.kubelet) : bins.kubelet },
    { name: "kube-proxy", executable: existsSync(bins.kubeProxy) ? realpathSync(bins.kubeProxy) : bins.kubeProxy },
    { name: "apiserver-forwarder", executable: existsSync("/usr/bin/socat") ? realpathSync("/usr/bin/socat") : "/usr/bin/socat" },
  ];
}

const pidFile = (layout: NodeLayout, name: string) => join(layout.pids, `${name}.pid`);

export function runningNodeProcesses(layout: NodeLayout, bins: NodeBinaries): { process: NodeProcess; pid: number }[] {
  return nodeProcesses(bins).flatMap((process) => {
    const pid = readPid(pidFile(layout, process.name));
    return pid !== undefined && isRunning(pid, process.executable) ? [{ process, pid }] : [];
  });
}

const baseEnv = () => ({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root" });

export async function startContainerd(layout: NodeLayout, pauseImage: string): Promise<number> {
  for (const dir of [layout.containerdRoot, layout.containerdState, layout.cniConfDir, layout.cniStateDir, layout.logs, layout.pids]) mkdirSync(dir, { recursive: true });
  writeFileSync(layout.containerdConfig, containerdConfig(layout, pauseImage));
  writeFileSync(join(layout.cniConfDir, "10-korthweb.conflist"), cniConflist(layout));
  const pid = startDetached({
    name: "containerd",
    command: which("containerd"),
    args: ["--config", layout.containerdConfig],
    env: baseEnv(),
    logFile: join(layout.logs, "containerd.log"),
    pidFile: pidFile(layout, "containerd"),
  });
  await waitUntil({
    what: "containerd to answer on its socket",
    timeoutMs: 60_000,
    hint: `see ${join(layout.logs, "containerd.log")}`,
    check: async () => {
      const result = await run("ctr", ["--address", layout.containerdSocket, "version"], { silent: true, allowFailure: true });
      return { done: result.exitCode === 0, status: result.exitCode === 0 ? "up" : "starting" };
    },
  });
  return pid;
}

export function startKubelet(layout: NodeLayout, bins: NodeBinaries, kubeconfig: string): number {
  mkdirSync(layout.kubeletRoot, { recursive: true });
  writeFileSync(layout.kubeletConfig, kubeletConfig(layout));
  writeFileSync(layout.resolvConf, nodeResolvConf);
  return startDetached({
    name: "kubelet",
    command: bins.kubelet,
    args: [
      `--config=${layout.kubeletConfig}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${layout.kubeletRoot}`,
      `--cert-dir=${join(layout.kubeletRoot, "pki")}`,
      `--hostname-override=${nodeName}`,
      `--node-ip=${addresses.nodeIp}`,
      "--v=1",
    ],
    env: baseEnv(),
    logFile: join(layout.logs, "kubelet.log"),
    pidFile: pidFile(layout, "kubelet"),
  });
}

export function startKubeProxy(layout: NodeLayout, bins: NodeBinaries, kubeconfig: string): number {
  writeFileSync(layout.kubeProxyConfig, kubeProxyConfig(kubeconfig));
  return startDetached({
    name: "kube-proxy",
    command: bins.kubeProxy,
    args: [`--config=${layout.kubeProxyConfig}`, "--v=1"],
    env: baseEnv(),
    logFile: join(layout.logs, "kube-proxy.log"),
    pidFile: pidFile(layout, "kube-proxy"),
  });
}

/** The API server's port, from the kubeconfig kwokctl wrote (https://127.0.0.1:PORT). */
export function apiServerPort(kubeconfig: string): number {
  const match = /server:\s*https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(kubeconfig, "utf8"));
  if (!match) throw new TaskError(`${kubeconfig} names no API server on 127.0.0.1`, { hint: "the control plane did not start as expected; make cluster-down and try again" });
  return Number(match[1]);
}

/**
 * Pods reach the API server through its Service, at the address it advertises: the node IP and its port.
 * kwokctl binds the API server to 127.0.0.1 (its binary runtime reaches its components there only), so
 * socat forwards node IP:port to it; the API server never listens on the machine's other addresses.
 */
export async function startApiForwarder(layout: NodeLayout, kubeconfig: string): Promise<number> {
  const port = apiServerPort(kubeconfig);
  const pid = startDetached({
    name: "apiserver-forwarder",
    command: which("socat"),
    args: [`TCP-LISTEN:${port},bind=${addresses.nodeIp},fork,reuseaddr`, `TCP:127.0.0.1:${port}`],
    env: baseEnv(),
    logFile: join(layout.logs, "apiserver-forwarder.log"),
    pidFile: pidFile(layout, "apiserver-forwarder"),
  });
  return pid;
}

/** containerd's shims outlive containerd: ours carry our socket path on their command line. */
export function shimPids(layout: NodeLayout): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (args[0]?.endsWith("containerd-shim-runc-v2") && args.includes(layout.containerdSocket)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // no process left in the group
  }
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Stops kube-proxy and the kubelet, kills the pods' processes and the shims, then stops containerd. Returns what was stopped. */
export async function stopNode(layout: NodeLayout, bins: NodeBinaries): Promise<string[]> {
  const stopped: string[] = [];
  const byName = Object.fromEntries(nodeProcesses(bins).map((process) => [process.name, process]));
  for (const name of ["apiserver-forwarder", "kube-proxy", "kubelet"] as const) {
    const pid = readPid(pidFile(layout, name));
    if (pid !== undefined && isRunning(pid, byName[name]!.executable)) {
      await stopPid(pid, byName[name]!.executable, name);
      stopped.push(`${name} (pid ${pid})`);
      // socat's per-connection children share its process group (started detached: group = its PID).
      if (name === "apiserver-forwarder") killGroup(pid);
    }
  }
  // The pods' processes: everything left in the kubelet's cgroups.
  for (let round = 0; round < 50; round++) {
    const pids = processesInCgroups(kubeletCgroups());
    if (pids.length === 0) break;
    if (round === 0) stopped.push(`${pids.length} pod processes`);
    killAll(pids);
    await sleep(200);
  }
  const shims = shimPids(layout);
  if (shims.length) stopped.push(`${shims.length} containerd shims`);
  killAll(shims);
  for (let round = 0; round < 50 && shimPids(layout).length; round++) await sleep(100);
  const containerd = readPid(pidFile(layout, "containerd"));
  if (containerd !== undefined && isRunning(containerd, byName.containerd!.executable)) {
    await stopPid(containerd, byName.containerd!.executable, "containerd");
    stopped.push(`containerd (pid ${containerd})`);
  }
  return stopped;
}
