// Process handling of the local stack with real processes: detached start,
// PID files, identity by executable (a stale PID file never signals a
// stranger), stop by SIGTERM, and port diagnostics that name the holder.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  isPortFree,
  isRunning,
  listeningAddressesOf,
  listeningSockets,
  portOwner,
  readPid,
  requirePortFree,
  runningPid,
  startDetached,
  stopByPidFile,
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
