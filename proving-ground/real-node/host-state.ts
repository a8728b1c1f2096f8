// What a real node can change on this machine, read as plain text: iptables
// chains and rules (IPv4 and IPv6), network links, addresses and routes,
// mounts, cgroup directories, the sysctls a kubelet, kube-proxy or CNI plugin
// may write, and the few paths containerd and the kubelet use outside our work
// folder. cluster-up records it before changing anything; cluster-down undoes
// the difference; the test compares before and after.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";

export const watchedSysctls = [
  "net.ipv4.ip_forward",
  "net.ipv4.conf.all.forwarding",
  "net.ipv6.conf.all.forwarding",
  "net.ipv4.conf.all.route_localnet",
  "net.bridge.bridge-nf-call-iptables",
  "net.bridge.bridge-nf-call-ip6tables",
  "net.netfilter.nf_conntrack_max",
  "net.netfilter.nf_conntrack_tcp_timeout_established",
  "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
] as const;

/** Paths outside the work folder that containerd, runc, CNI or the kubelet may create. */
export const watchedPaths = ["/run/netns", "/run/containerd", "/var/run/netns", "/var/log/pods", "/var/log/containers", "/var/lib/kubelet", "/var/lib/cni", "/etc/cni", "/opt/cni", "/run/kubernetes", "/etc/kubernetes", "/var/lib/containerd", "/etc/containerd"] as const;

export interface HostState {
  iptables: string[];
  links: string[];
  addresses: string[];
  routes: string[];
  mounts: string[];
  cgroups: string[];
  sysctls: Record<string, string>;
  paths: string[];
}

export const sysctlPath = (name: string) => join("/proc/sys", ...name.split("."));

export function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(sysctlPath(name), "utf8").trim();
  } catch {
    return undefined;
  }
}

/** iptables-save without counters and comments: "<family> <table> :CHAIN" and "<family> <table> -A …" lines. */
async function iptablesLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const [family, command] of [["ipv4", "iptables-save"], ["ipv6", "ip6tables-save"]] as const) {
    const { stdout } = await run(command, [], { silent: true, allowFailure: true });
    let table = "";
    for (const raw of stdout.split("\n")) {
      const line = raw.trim();
      if (line.startsWith("*")) table = line.slice(1);
      else if (line.startsWith(":")) lines.push(`${family} ${table} ${line.split(" ")[0]}`);
      else if (line.startsWith("-A")) lines.push(`${family} ${table} ${line}`);
    }
  }
  return lines.sort();
}

const ipLines = async (args: string[]) =>
  (await run("ip", args, { silent: true })).stdout
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();

function cgroupDirs(): string[] {
  const root = "/sys/fs/cgroup";
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((controller) => {
      try {
        return readdirSync(join(root, controller.name), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${controller.name}/${entry.name}`);
      } catch {
        return [];
      }
    })
    .sort();
}

const mountPoints = () =>
  readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" ")[4] ?? "")
    .sort();

const pathEntries = () =>
  watchedPaths.flatMap((path) => {
    if (!existsSync(path)) return [];
    try {
      return [path, ...readdirSync(path).map((entry) => join(path, entry))];
    } catch {
      return [path];
    }
  });

export async function readHostState(): Promise<HostState> {
  return {
    iptables: await iptablesLines(),
    // Link names and flags, without counters or the ever-changing link index.
    links: (await ipLines(["-o", "link", "show"])).map((line) => line.replace(/^\d+:\s*/, "").replace(/\s+link\/.*$/, "")),
    addresses: (await ipLines(["-o", "addr", "show"])).map((line) => line.replace(/^\d+:\s*/, "").replace(/\s+valid_lft.*$/, "")),
    routes: await ipLines(["route", "show", "table", "all"]),
    mounts: mountPoints(),
    cgroups: cgroupDirs(),
    sysctls: Object.fromEntries(watchedSysctls.map((name) => [name, readSysctl(name) ?? "(absent)"])),
    paths: pathEntries(),
  };
}

/** Human-readable differences ("+ added", "- removed", "~ changed"); empty when the host is as it was. */
export function diffHostState(before: HostState, after: HostState): string[] {
  const differences: string[] = [];
  for (const key of ["iptables", "links", "addresses", "routes", "mounts", "cgroups", "paths"] as const) {
    const was = new Set(before[key]);
    const now = new Set(after[key]);
    for (const item of now) if (!was.has(item)) differences.push(`${key}: + ${item}`);
    for (const item of was) if (!now.has(item)) differences.push(`${key}: - ${item}`);
  }
  for (const name of Object.keys(before.sysctls)) {
    if (before.sysctls[name] !== after.sysctls[name]) differences.push(`sysctl ${name}: ${before.sysctls[name]} → ${after.sysctls[name]}`);
  }
  return differences;
}
