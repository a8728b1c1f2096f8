// Can this machine run a real node? Checked before anything changes: root
// (containers, mounts, iptables), overlayfs (containerd's snapshotter),
// cgroup hierarchies the kubelet needs, and the node's interface name and
// addresses free. The Debian packages it runs are then installed when missing.
import { existsSync, readFileSync } from "node:fs";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import type { DebianPackage } from "../local/packages.ts";
import { addresses } from "./layout.ts";

export const nodePackages: readonly DebianPackage[] = [
  { name: "containerd", why: "the container runtime (1.6, CRI)" },
  { name: "runc", why: "the OCI runtime containerd starts containers with" },
  { name: "containernetworking-plugins", why: "CNI plugins bridge and host-local (/usr/lib/cni)" },
  { name: "iptables", why: "kube-proxy's Service rules" },
  { name: "nftables", why: "cluster-down deletes the iptables tables the node created (nft)" },
  { name: "iproute2", why: "the node's dummy interface and routes" },
  { name: "conntrack", why: "kube-proxy clears stale UDP flows with it" },
  { name: "socat", why: "forwards the node IP to the API server on 127.0.0.1, for pods" },
  { name: "mmdebstrap", why: "root filesystems of the images built here" },
  { name: "gcc", why: "the pause program of the pod sandboxes" },
  { name: "libc6-dev", why: "static C library for the pause program" },
];

export interface MachineFacts {
  uid: number;
  filesystems: string;
  cgroupControllers: string[];
  linkExists: boolean;
}

export async function readMachineFacts(): Promise<MachineFacts> {
  const link = await run("ip", ["link", "show", addresses.nodeLink], { silent: true, allowFailure: true });
  return {
    uid: process.getuid?.() ?? -1,
    filesystems: existsSync("/proc/filesystems") ? readFileSync("/proc/filesystems", "utf8") : "",
    cgroupControllers: ["cpu", "cpuacct", "memory", "pids", "cpuset", "devices", "freezer"].filter((name) => existsSync(`/sys/fs/cgroup/${name}`) || existsSync("/sys/fs/cgroup/cgroup.controllers")),
    linkExists: link.exitCode === 0,
  };
}

/** What is missing for a real node, one line each; empty when the machine can run it. */
export function missingForRealNode(facts: MachineFacts): string[] {
  const missing: string[] = [];
  if (facts.uid !== 0) missing.push(`root: the real node runs containers, mounts filesystems and writes iptables rules (running as uid ${facts.uid})`);
  if (!/\toverlay$/m.test(facts.filesystems)) missing.push("overlayfs: containerd's snapshotter needs it (not in /proc/filesystems; try `modprobe overlay`)");
  const needed = ["cpu", "cpuacct", "memory", "pids", "cpuset", "devices", "freezer"];
  const absent = needed.filter((name) => !facts.cgroupControllers.includes(name));
  if (absent.length) missing.push(`cgroup controllers ${absent.join(", ")} under /sys/fs/cgroup (the kubelet needs them)`);
  return missing;
}

export function requireRealNodeMachine(facts: MachineFacts): void {
  const missing = missingForRealNode(facts);
  if (missing.length === 0) return;
  throw new TaskError(`this machine cannot run the real node; nothing was changed. Missing:\n    - ${missing.join("\n    - ")}`, {
    code: "missingTool",
    hint: "run it as root on a Linux machine with overlayfs and cgroups (a VM is fine), or use the simulated cluster: make cluster-up",
  });
}
