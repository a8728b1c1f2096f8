// Orthanc from Debian, run as user orthanc on the effective configuration with
// the container's environment — plus TCP_NODELAY=1 (Debian's dcmtk keeps
// Nagle's algorithm on otherwise) and the loopback-bind library.
import { createHash } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { TaskError } from "../lib/errors.ts";
import { progress } from "../lib/log.ts";
import type { LocalLayout } from "./layout.ts";
import { buildLoopbackLibrary } from "./loopback.ts";
import { isRunning, logTail, requirePortFree, runningPid, startDetached, stopByPidFile } from "./processes.ts";
import type { OrthancRuntime } from "./runtime.ts";
import { requireReachable, systemUser } from "./users.ts";

export const orthancExecutable = "/usr/sbin/Orthanc";

/** Identifies what Orthanc was started with; a different one means a restart is due. */
export function orthancFingerprint(runtime: OrthancRuntime): string {
  const env = Object.entries(runtime.env).sort(([a], [b]) => a.localeCompare(b));
  return createHash("sha256").update(runtime.configText).update(JSON.stringify(env)).digest("hex");
}

/** GET /system with the login; resolves with the HTTP status (0 when nothing answers). */
export function orthancStatus(port: number, login: { username: string; password: string }, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve) => {
    const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
    const req = request({ host: "127.0.0.1", port, path: "/system", headers: { authorization: `Basic ${auth}` }, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

export class LocalOrthanc {
  readonly layout: LocalLayout;
  constructor(layout: LocalLayout) {
    this.layout = layout;
  }

  get pid(): number | undefined {
    return runningPid(this.layout.orthanc.pid, orthancExecutable);
  }

  /** True when it runs with exactly this runtime and answers /system with 200. */
  async isCurrent(runtime: OrthancRuntime): Promise<boolean> {
    if (this.pid === undefined || !existsSync(this.layout.orthanc.fingerprint)) return false;
    if (readFileSync(this.layout.orthanc.fingerprint, "utf8").trim() !== orthancFingerprint(runtime)) return false;
    return (await orthancStatus(runtime.facts.httpPort, runtime.facts.login)) === 200;
  }

  async start(runtime: OrthancRuntime, timeoutMs = 90_000): Promise<number> {
    const { facts } = runtime;
    const hint = "Orthanc's ports come from the chart's configuration; stop the other process (for Debian's own service: systemctl stop orthanc)";
    await requirePortFree(facts.httpPort, "Orthanc HTTP, from orthanc.json HttpPort", hint);
    await requirePortFree(facts.dicomPort, "Orthanc DICOM, from orthanc.json DicomPort", hint);
    await buildLoopbackLibrary(this.layout.loopbackLibrary);
    const orthanc = systemUser("orthanc");
    await requireReachable("orthanc", this.layout.orthanc.dir);
    for (const dir of [this.layout.orthanc.storage, this.layout.orthanc.index]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chownSync(dir, orthanc.uid, orthanc.gid);
    }
    const pid = startDetached({
      name: "Orthanc",
      command: orthancExecutable,
      args: [this.layout.orthanc.config],
      env: {
        PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
        LANG: "C.UTF-8",
        ...runtime.env,
        TCP_NODELAY: "1",
        LD_PRELOAD: this.layout.loopbackLibrary,
      },
      cwd: this.layout.orthanc.dir,
      logFile: this.layout.orthanc.log,
      pidFile: this.layout.orthanc.pid,
      uid: orthanc.uid,
      gid: orthanc.gid,
    });
    writeFileSync(this.layout.orthanc.fingerprint, `${orthancFingerprint(runtime)}\n`);
    await this.waitReady(pid, runtime, timeoutMs);
    return pid;
  }

  private async waitReady(pid: number, runtime: OrthancRuntime, timeoutMs: number): Promise<void> {
    const line = progress(`waiting for Orthanc (pid ${pid}) to answer on 127.0.0.1:${runtime.facts.httpPort}`);
    const deadline = Date.now() + timeoutMs;
    let status = 0;
    while (Date.now() < deadline) {
      if (!isRunning(pid, orthancExecutable)) {
        line.fail("Orthanc exited");
        throw new TaskError(`Orthanc exited during startup; the end of ${this.layout.orthanc.log}:\n${logTail(this.layout.orthanc.log, 20)}`, {
          hint: "a configuration the chart renders for Orthanc 1.13 may use keys or values 1.10 rejects; PostgreSQL errors mean the database is unreachable",
        });
      }
      status = await orthancStatus(runtime.facts.httpPort, runtime.facts.login);
      if (status === 200) {
        line.done(`Orthanc answers on 127.0.0.1:${runtime.facts.httpPort} (pid ${pid})`);
        return;
      }
      line.update(status ? `HTTP ${status}` : "no answer yet");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    line.fail("Orthanc did not become ready");
    throw new TaskError(`Orthanc did not answer /system with 200 within ${timeoutMs / 1000}s (last: ${status || "no answer"}); the end of its log:\n${logTail(this.layout.orthanc.log, 20)}`, {
      code: "timeout",
    });
  }

  /** SIGTERM and wait: Orthanc takes a few seconds to close its database. */
  stop(): Promise<boolean> {
    return stopByPidFile(this.layout.orthanc.pid, orthancExecutable, "Orthanc", 60_000);
  }
}
