// Long-running processes (local stack, simulated cluster): started detached (they outlive
// the task), tracked by PID file, recognised by their executable (a PID file
// left by a dead process never makes us signal a stranger), stopped with
// SIGTERM and waited for. Never found or signalled by name pattern.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { TaskError } from "./errors.ts";
import { log } from "./log.ts";

export interface DetachedProcess {
  /** For messages: "Orthanc". */
  name: string;
  command: string;
  args: readonly string[];
  /** The complete environment (nothing is inherited). */
  env: Record<string, string>;
  logFile: string;
  pidFile: string;
  cwd?: string;
  uid?: number;
  gid?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the process in its own session with output appended to its log; returns its PID. */
export function startDetached(spec: DetachedProcess): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const out = openSync(spec.logFile, "a");
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ["ignore", out, out],
      env: spec.env,
      cwd: spec.cwd,
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
    if (child.pid === undefined) throw new TaskError(`could not start ${spec.name} (${spec.command})`, { code: "missingTool" });
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The fields of /proc/PID/stat after the command name (state first), or undefined when it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

const isZombie = (fields: readonly string[]) => fields[0] === "Z" || fields[0] === "X";

/** True when `pid` is alive (not a zombie) and runs `executable`. */
export function isRunning(pid: number | undefined, executable: string): boolean {
  if (pid === undefined) return false;
  const fields = statFields(pid);
  if (fields === undefined || isZombie(fields)) return false;
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "") === executable;
  } catch {
    return false;
  }
}

/** When the process started (clock ticks since boot): with the PID, names one process, even if the PID is reused. */
export function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * True once every thread of `pid` has finished exiting, so its sockets and files are
 * closed. `isRunning` turns false earlier: /proc/PID/exe goes with the memory map,
 * before the kernel closes the files, and the other threads of a multi-threaded server
 * (haproxy, Orthanc) may still hold them. Only the leader left, as a zombie, means
 * the rest are gone. `startTime` (from `startTimeOf` before signalling) makes a new
 * process that took the PID count as the old one exited.
 */
export function hasExited(pid: number, startTime?: string): boolean {
  const fields = statFields(pid);
  if (fields === undefined || (startTime !== undefined && fields[19] !== startTime)) return true;
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  if (threads.some((thread) => thread !== String(pid))) return false;
  return isZombie(fields);
}

/** The PID from the file when that process is alive and is `executable`. */
export function runningPid(pidFile: string, executable: string): number | undefined {
  const pid = readPid(pidFile);
  return isRunning(pid, executable) ? pid : undefined;
}

/** SIGTERM, then wait up to `timeoutMs` for the process to go; SIGKILL (with a warning) if it does not. */
export async function stopPid(pid: number, executable: string, name: string, timeoutMs = 30_000): Promise<void> {
  if (!isRunning(pid, executable)) return;
  const startTime = startTimeOf(pid);
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(pid, startTime)) return;
    await sleep(100);
  }
  if (hasExited(pid, startTime)) return;
  log.warn(`${name} (pid ${pid}) did not stop within ${timeoutMs / 1000}s of SIGTERM; sending SIGKILL`);
  process.kill(pid, "SIGKILL");
  while (!hasExited(pid, startTime)) await sleep(100);
}

/** SIGKILL (a crash, for fault tests) and wait until the process is gone. */
export async function killPid(pid: number, executable: string, timeoutMs = 10_000): Promise<void> {
  if (!isRunning(pid, executable)) return;
  const startTime = startTimeOf(pid);
  process.kill(pid, "SIGKILL");
  const deadline = Date.now() + timeoutMs;
  while (!hasExited(pid, startTime)) {
    if (Date.now() > deadline) throw new TaskError(`pid ${pid} (${executable}) is still alive ${timeoutMs / 1000}s after SIGKILL`);
    await sleep(20);
  }
}

/** Stops the process named in the PID file (if it is still ours) and removes the file. Returns whether one was running. */
export async function stopByPidFile(pidFile: string, executable: string, name: string, timeoutMs?: number): Promise<boolean> {
  const pid = runningPid(pidFile, executable);
  if (pid !== undefined) await stopPid(pid, executable, name, timeoutMs);
  rmSync(pidFile, { force: true });
  return pid !== undefined;
}

export interface ListeningSocket {
  address: string;
  port: number;
  inode: string;
}

function hexToAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
  // IPv6: four little-endian 32-bit words.
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(""));
  const groups = words.join("").match(/.{4}/g)!.map((group) => group.replace(/^0+(?=.)/, "").toLowerCase());
  // Compress the longest run of zero groups to "::", as people write IPv6 addresses.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.length < 2) return groups.join(":");
  return `${groups.slice(0, best.start).join(":")}::${groups.slice(best.start + best.length).join(":")}`;
}

/** Every TCP socket in LISTEN state on this machine (from /proc/net/tcp and tcp6). */
export function listeningSockets(): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== "0A") continue;
      const [addressHex, portHex] = fields[1]!.split(":");
      out.push({ address: hexToAddress(addressHex!), port: parseInt(portHex!, 16), inode: fields[9]! });
    }
  }
  return out;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // the descriptor closed while we looked
      }
    }
  } catch {
    // the process is gone or not ours to inspect
  }
  return inodes;
}

/** The addresses a process listens on, e.g. ["127.0.0.1:8042", "127.0.0.1:4242"]. */
export function listeningAddressesOf(pid: number): string[] {
  const inodes = socketInodes(pid);
  return listeningSockets()
    .filter((socket) => inodes.has(socket.inode))
    .map((socket) => `${socket.address.includes(":") ? `[${socket.address}]` : socket.address}:${socket.port}`);
}

/** Who listens on a port, or undefined when nobody (or we cannot tell). */
export function portHolder(port: number): { pid: number; name: string } | undefined {
  const inodes = new Set(listeningSockets().filter((socket) => socket.port === port).map((socket) => socket.inode));
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const owned = socketInodes(pid);
    if ([...inodes].some((inode) => owned.has(inode))) {
      let name = "?";
      try {
        name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      } catch {
        // gone meanwhile
      }
      return { pid, name };
    }
  }
  return undefined;
}

/** "haproxy (pid 1234)", for messages. */
export function portOwner(port: number): string | undefined {
  const holder = portHolder(port);
  return holder ? `${holder.name} (pid ${holder.pid})` : undefined;
}

/** True when nothing (on any address) keeps us from listening on 127.0.0.1:port. */
export async function isPortFree(port: number): Promise<boolean> {
  if (listeningSockets().some((socket) => socket.port === port)) return false;
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws a TaskError naming the port, who holds it, and how to pick another; a port held by `ownPid` counts as free. */
export async function requirePortFree(port: number, purpose: string, hint: string, ownPid?: number): Promise<void> {
  if (await isPortFree(port)) return;
  if (ownPid !== undefined && portHolder(port)?.pid === ownPid) return;
  const owner = portOwner(port);
  throw new TaskError(`port ${port} (${purpose}) is already in use${owner ? ` by ${owner}` : ""}`, { code: "usage", hint });
}

/** The last lines of a log file, indented, for error messages. */
export function logTail(file: string, lines = 15): string {
  if (!existsSync(file)) return `    (no log at ${file})`;
  const text = readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines);
  return text.map((line) => `    ${line}`).join("\n");
}
