// The host changes a real node makes, and how cluster-down undoes them. On the
// way up we create the node's dummy interface and its route, and write down
// the state before (host-state.ts) so that the way down restores exactly the
// sysctls that were changed and removes only what was not there before: iptables
// chains KUBE-* and CNI-* (and the rules jumping to them), the CNI bridge,
// network namespaces, mounts under the node's folder, the kubelet's cgroup
// directories, files containerd and the kubelet leave outside our folder.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import { log } from "../../tasks/lib/log.ts";
import { readHostState, sysctlPath, type HostState } from "./host-state.ts";
import { addresses, type NodeLayout } from "./layout.ts";

export async function recordHostBefore(layout: NodeLayout): Promise<HostState> {
  const before = await readHostState();
  writeFileSync(layout.hostChanges, JSON.stringify(before, null, 2));
  return before;
}

export function recordedHostBefore(layout: NodeLayout): HostState | undefined {
  return existsSync(layout.hostChanges) ? (JSON.parse(readFileSync(layout.hostChanges, "utf8")) as HostState) : undefined;
}

/**
 * The node IP on its own interface, and the node's /28 routed to it (never out of the uplink). A veth pair
 * whose far end stays unused: VM kernels often lack the dummy driver, and veth is there wherever the CNI
 * bridge plugin works (it needs veth for every pod).
 */
export async function createNodeLink(): Promise<void> {
  await run("ip", ["link", "add", addresses.nodeLink, "type", "veth", "peer", "name", addresses.nodePeerLink], { silent: true });
  await run("ip", ["addr", "add", `${addresses.nodeIp}/32`, "dev", addresses.nodeLink], { silent: true });
  await run("ip", ["link", "set", addresses.nodePeerLink, "up"], { silent: true });
  await run("ip", ["link", "set", addresses.nodeLink, "up"], { silent: true });
  await run("ip", ["route", "add", addresses.nodeRange, "dev", addresses.nodeLink], { silent: true });
}

/** Pods reach Services and each other through the host: forwarding on (restored on the way down). */
export function setSysctl(name: string, value: string): void {
  writeFileSync(sysctlPath(name), `${value}\n`);
}

/** Splits an iptables-save rule into arguments (double-quoted strings are one argument). */
export function splitRule(rule: string): string[] {
  const args: string[] = [];
  for (const match of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : match[2]!);
  return args;
}

const ours = (chain: string) => chain.startsWith("KUBE-") || chain.startsWith("CNI-");

/** Removes the KUBE-* and CNI-* chains that were not there before, and every rule that jumps to them. */
export async function removeNodeChains(before: HostState | undefined): Promise<string[]> {
  const existedBefore = new Set((before?.iptables ?? []).filter((line) => / :/.test(line)));
  const removed: string[] = [];
  for (const [family, save, command] of [["ipv4", "iptables-save", "iptables"], ["ipv6", "ip6tables-save", "ip6tables"]] as const) {
    const { stdout } = await run(save, [], { silent: true, allowFailure: true });
    let table = "";
    const chains: { table: string; chain: string }[] = [];
    const jumps: { table: string; args: string[] }[] = [];
    for (const raw of stdout.split("\n")) {
      const line = raw.trim();
      if (line.startsWith("*")) table = line.slice(1);
      else if (line.startsWith(":")) {
        const chain = line.slice(1).split(" ")[0]!;
        if (ours(chain) && !existedBefore.has(`${family} ${table} :${chain}`)) chains.push({ table, chain });
      } else if (line.startsWith("-A ")) {
        const args = splitRule(line);
        const target = args[args.indexOf("-j") + 1] ?? args[args.indexOf("-g") + 1] ?? "";
        if (!ours(args[1]!) && ours(target)) jumps.push({ table, args: args.slice(1) });
      }
    }
    const oursNow = new Set(chains.map((item) => `${item.table} ${item.chain}`));
    for (const jump of jumps) {
      const target = jump.args[jump.args.indexOf("-j") + 1] ?? "";
      if (!oursNow.has(`${jump.table} ${target}`)) continue;
      await run(command, ["-w", "-t", jump.table, "-D", ...jump.args], { silent: true, allowFailure: true });
    }
    for (const { table: t, chain } of chains) await run(command, ["-w", "-t", t, "-F", chain], { silent: true, allowFailure: true });
    for (const { table: t, chain } of chains) {
      const result = await run(command, ["-w", "-t", t, "-X", chain], { silent: true, allowFailure: true });
      if (result.exitCode === 0) removed.push(`${family} ${t} ${chain}`);
      else log.warn(`could not delete ${family} chain ${t}/${chain}: ${result.stderr.trim()}`);
    }
    removed.push(...(await removeNewEmptyTables(family, save, before)));
  }
  return removed;
}

/**
 * iptables (nf_tables backend) creates a table the first time a rule goes into it and never deletes it.
 * A table that did not exist before cluster-up and holds no rule now is deleted with nft.
 */
async function removeNewEmptyTables(family: "ipv4" | "ipv6", save: string, before: HostState | undefined): Promise<string[]> {
  const existed = new Set((before?.iptables ?? []).filter((line) => line.startsWith(`${family} `)).map((line) => line.split(" ")[1]));
  const { stdout } = await run(save, [], { silent: true, allowFailure: true });
  const removed: string[] = [];
  let table = "";
  const rules = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    if (line.startsWith("*")) rules.set((table = line.slice(1)), 0);
    else if (line.startsWith("-A ")) rules.set(table, (rules.get(table) ?? 0) + 1);
  }
  for (const [name, count] of rules) {
    if (existed.has(name) || count > 0) continue;
    const result = await run("nft", ["delete", "table", family === "ipv4" ? "ip" : "ip6", name], { silent: true, allowFailure: true });
    if (result.exitCode === 0) removed.push(`${family} table ${name}`);
    else log.warn(`could not delete the empty ${family} table ${name}: ${result.stderr.trim()}`);
  }
  return removed;
}

/** Mount points under `prefixes` that were not mounted before, deepest first. */
function newMountsUnder(prefixes: readonly string[], before: HostState | undefined): string[] {
  const known = new Set(before?.mounts ?? []);
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point && !known.has(point) && prefixes.some((prefix) => point === prefix || point.startsWith(`${prefix}/`)))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts what the node mounted: its folder's mounts (overlay snapshots, pod volumes, shm) and containerd's network namespaces. */
export async function unmountNew(prefixes: readonly string[], before: HostState | undefined): Promise<string[]> {
  const done: string[] = [];
  for (let round = 0; round < 3; round++) {
    const points = newMountsUnder(prefixes, before);
    if (points.length === 0) break;
    for (const point of points) {
      const result = await run("umount", [point], { silent: true, allowFailure: true });
      if (result.exitCode !== 0) await run("umount", ["-l", point], { silent: true, allowFailure: true });
      done.push(point);
    }
  }
  return done;
}

/** The kubelet's cgroup directories (kubepods in every v1 hierarchy), deepest first, once their processes are gone. */
export function kubeletCgroups(): string[] {
  const root = "/sys/fs/cgroup";
  const found: string[] = [];
  const walk = (dir: string) => {
    found.push(dir);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  if (!existsSync(root)) return [];
  for (const controller of readdirSync(root)) {
    const top = join(root, controller, "kubepods");
    if (existsSync(top)) walk(top);
    // The kubelet's slice for QoS may also be named kubepods.slice with a systemd driver; ours is cgroupfs.
  }
  return found.sort((a, b) => b.split("/").length - a.split("/").length);
}

export function processesInCgroups(dirs: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const dir of dirs) {
    try {
      for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) if (line.trim()) pids.add(Number(line));
    } catch {
      // gone already
    }
  }
  return [...pids];
}

export function removeCgroups(dirs: readonly string[]): string[] {
  const left: string[] = [];
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") left.push(dir);
    }
  }
  return left;
}

/** Links created since `before` (the dummy, the bridge, leftover veths): deleted. */
export async function removeNewLinks(before: HostState | undefined): Promise<string[]> {
  const known = new Set((before?.links ?? []).map((line) => line.split(":")[0]!.split("@")[0]));
  const { stdout } = await run("ip", ["-o", "link", "show"], { silent: true });
  const removed: string[] = [];
  for (const line of stdout.split("\n")) {
    const name = line.replace(/^\d+:\s*/, "").split(":")[0]?.split("@")[0];
    if (!name || known.has(name)) continue;
    if (name !== addresses.nodeLink && name !== addresses.nodePeerLink && name !== addresses.bridge && !name.startsWith("veth")) continue;
    await run("ip", ["link", "delete", name], { silent: true, allowFailure: true });
    removed.push(name);
  }
  return removed;
}

/** Network namespaces containerd created (cni-*), paths under watched folders that were not there before. */
export async function removeNewPaths(before: HostState | undefined): Promise<string[]> {
  const known = new Set(before?.paths ?? []);
  const removed: string[] = [];
  const state = await readHostState();
  // Deepest first, so a folder we created goes after its contents.
  for (const path of state.paths.filter((path) => !known.has(path)).sort((a, b) => b.length - a.length)) {
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

export function restoreSysctls(before: HostState | undefined): string[] {
  const restored: string[] = [];
  for (const [name, value] of Object.entries(before?.sysctls ?? {})) {
    if (value === "(absent)") continue;
    const now = existsSync(sysctlPath(name)) ? readFileSync(sysctlPath(name), "utf8").trim() : undefined;
    if (now !== undefined && now !== value) {
      setSysctl(name, value);
      restored.push(`${name}=${value}`);
    }
  }
  return restored;
}
