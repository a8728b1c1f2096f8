// Process handling of the local stack with real processes: detached start,
// PID files, identity by executable (a stale PID file never signals a
// stranger), stop by SIGTERM, and port diagnostics that name the holder.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  hasExited,
  isPortFree,
  isRunning,
  listeningAddressesOf,
  listeningSockets,
  portOwner,
  readPid,
  requirePortFree,
  runningPid,
  startDetached,
  startTimeOf,
  stopByPidFile,
  stopPid,
} from "../../tasks/lib/processes.ts";
import { useCapturedLog } from "../helpers/log.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-processes-"));
const sleepBinary = "/usr/bin/sleep";

function listen(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, port: (server.address() as { port: number }).port })));
}

describe("local stack processes", () => {
  useCapturedLog();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts a detached process, recognises it by executable, and stops it with SIGTERM", async () => {
    const pidFile = join(dir, "sleep.pid");
    const pid = startDetached({ name: "sleep", command: sleepBinary, args: ["60"], env: {}, logFile: join(dir, "sleep.log"), pidFile });
    expect(readPid(pidFile)).toBe(pid);
    expect(isRunning(pid, sleepBinary)).toBe(true);
    expect(isRunning(pid, "/usr/sbin/Orthanc")).toBe(false);
    expect(await stopByPidFile(pidFile, sleepBinary, "sleep", 5_000)).toBe(true);
    expect(isRunning(pid, sleepBinary)).toBe(false);
    expect(readPid(pidFile)).toBeUndefined();
  });

  // The shape of a multi-threaded server's exit (haproxy, Orthanc): the leader is gone, and its
  // /proc/PID/exe with it, while another thread still holds the listening socket. This one's
  // leader exits at SIGTERM and its other thread closes the socket 700 ms later. `make
  // local-up` once restarted haproxy into "port in use" through that window.
  const lateClose = join(dir, "late-close");
  const lateCloseSource = `#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
static int listener, wake[2];
static void *holder(void *unused) { char byte; read(wake[0], &byte, 1); usleep(700000); close(listener); exit(0); }
int main(int argc, char **argv) {
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  listener = socket(AF_INET, SOCK_STREAM, 0);
  if (pipe(wake) || bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 8)) return 1;
  sigset_t term; int sig; pthread_t thread;
  sigemptyset(&term); sigaddset(&term, SIGTERM); pthread_sigmask(SIG_BLOCK, &term, 0);
  pthread_create(&thread, 0, holder, 0);
  sigwait(&term, &sig); write(wake[1], "x", 1); pthread_exit(0);
}
`;
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function startLateClose(name: string): Promise<{ pid: number; port: number }> {
    if (!existsSync(lateClose)) {
      writeFileSync(`${lateClose}.c`, lateCloseSource);
      execFileSync("gcc", ["-pthread", "-o", lateClose, `${lateClose}.c`]);
    }
    const { server, port } = await listen("127.0.0.1");
    await new Promise((resolve) => server.close(resolve));
    const pid = startDetached({ name, command: lateClose, args: [String(port)], env: {}, logFile: join(dir, `${name}.log`), pidFile: join(dir, `${name}.pid`) });
    for (let waited = 0; (await isPortFree(port)) && waited < 5_000; waited += 20) await pause(20);
    return { pid, port };
  }

  it("hasExited waits for the last thread: the leader gone is not the sockets closed", async () => {
    const { pid, port } = await startLateClose("late-close-1");
    expect(isRunning(pid, lateClose)).toBe(true);
    expect(hasExited(pid)).toBe(false);
    expect(await isPortFree(port)).toBe(false);
    process.kill(pid, "SIGTERM");
    const signalled = Date.now();
    let leaderGoneWhileListening = false;
    while (!hasExited(pid)) {
      if (!isRunning(pid, lateClose) && !(await isPortFree(port))) leaderGoneWhileListening = true;
      await pause(20);
    }
    expect(leaderGoneWhileListening).toBe(true);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(600);
    expect(await isPortFree(port)).toBe(true);
  });

  it("stopPid returns only when every thread is gone, so the port can be bound again at once", async () => {
    const { pid, port } = await startLateClose("late-close-2");
    expect(await isPortFree(port)).toBe(false);
    const started = Date.now();
    await stopPid(pid, lateClose, "late-close", 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(hasExited(pid)).toBe(true);
    expect(await isPortFree(port)).toBe(true);
  });

  it("hasExited counts a process that took the PID since as the old one gone (its start time differs)", () => {
    const startTime = startTimeOf(process.pid);
    expect(startTime).toMatch(/^\d+$/);
    expect(startTimeOf(process.pid)).toBe(startTime);
    expect(hasExited(process.pid)).toBe(false);
    expect(hasExited(process.pid, startTime)).toBe(false);
    expect(hasExited(process.pid, `${startTime}0`)).toBe(true);
    expect(startTimeOf(999999999)).toBeUndefined();
    expect(hasExited(999999999)).toBe(true);
  });

  it("ignores a PID file that names another program or a dead process", async () => {
    const pidFile = join(dir, "stale.pid");
    writeFileSync(pidFile, `${process.pid}\n`); // this test process: alive, but not the executable we ask for
    expect(runningPid(pidFile, sleepBinary)).toBeUndefined();
    expect(await stopByPidFile(pidFile, sleepBinary, "sleep")).toBe(false);
    writeFileSync(pidFile, "999999999\n");
    expect(runningPid(pidFile, sleepBinary)).toBeUndefined();
  });

  it("lists listening sockets with their address, and names who holds a port", async () => {
    const { server, port } = await listen("127.0.0.1");
    try {
      expect(listeningSockets().some((s) => s.port === port && s.address === "127.0.0.1")).toBe(true);
      expect(listeningAddressesOf(process.pid)).toContain(`127.0.0.1:${port}`);
      expect(portOwner(port)).toMatch(new RegExp(`\\(pid ${process.pid}\\)$`));
      expect(await isPortFree(port)).toBe(false);
      await expect(requirePortFree(port, "the test port", "use another")).rejects.toThrow(new RegExp(`port ${port} \\(the test port\\) is already in use by .*pid ${process.pid}`));
    } finally {
      server.close();
    }
  });

  it("reads IPv6 listeners too", async () => {
    const { server, port } = await listen("::1");
    try {
      expect(listeningSockets().some((s) => s.port === port && s.address === "::1")).toBe(true);
    } finally {
      server.close();
    }
  });
});
