// Orthanc from Debian, run as user orthanc on the effective configuration with
// the container's environment — plus TCP_NODELAY=1 (Debian's dcmtk keeps
// Nagle's algorithm on otherwise) and the loopback-bind library.
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { TaskError } from "../../tasks/lib/errors.ts";
import { progress } from "../../tasks/lib/log.ts";
import type { LocalLayout, OrthancPaths } from "./layout.ts";
import { buildLoopbackLibrary } from "./loopback.ts";
import { isRunning, killPid, logTail, requirePortFree, runningPid, startDetached, stopByPidFile } from "../../tasks/lib/processes.ts";
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

/** One Orthanc process of the stack: instance 1 by default (layout.orthanc), or another instance's files. */
export class LocalOrthanc {
  readonly layout: LocalLayout;
  readonly paths: OrthancPaths;
  /** For messages: "Orthanc", "Orthanc 2". */
  readonly name: string;
  constructor(layout: LocalLayout, paths: OrthancPaths = layout.orthanc, name = "Orthanc") {
    this.layout = layout;
    this.paths = paths;
    this.name = name;
  }

  get pid(): number | undefined {
    return runningPid(this.paths.pid, orthancExecutable);
  }

  /** True when it runs with exactly this runtime and answers /system with 200. */
  async isCurrent(runtime: OrthancRuntime): Promise<boolean> {
    if (this.pid === undefined || !existsSync(this.paths.fingerprint)) return false;
    if (readFileSync(this.paths.fingerprint, "utf8").trim() !== orthancFingerprint(runtime)) return false;
    return (await orthancStatus(runtime.facts.httpPort, runtime.facts.login)) === 200;
  }

  async start(runtime: OrthancRuntime, timeoutMs = 90_000): Promise<number> {
    const { facts } = runtime;
    const hint = "Orthanc's ports come from the chart's configuration; stop the other process (for Debian's own service: systemctl stop orthanc)";
    await requirePortFree(facts.httpPort, `${this.name} HTTP, from orthanc.json HttpPort`, hint);
    await requirePortFree(facts.dicomPort, `${this.name} DICOM, from orthanc.json DicomPort`, hint);
    await buildLoopbackLibrary(this.layout.loopbackLibrary);
    const orthanc = systemUser("orthanc");
    mkdirSync(this.paths.dir, { recursive: true, mode: 0o755 });
    await requireReachable("orthanc", this.paths.dir);
    // The file Orthanc reads is always the configuration it is started with.
    if (!existsSync(this.paths.config) || readFileSync(this.paths.config, "utf8") !== runtime.configText) {
      writeFileSync(this.paths.config, runtime.configText);
      chmodSync(this.paths.config, 0o644);
    }
    for (const dir of [this.paths.storage, this.paths.index]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chownSync(dir, orthanc.uid, orthanc.gid);
    }
    const pid = startDetached({
      name: this.name,
      command: orthancExecutable,
      args: [this.paths.config],
      env: {
        PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
        LANG: "C.UTF-8",
        ...runtime.env,
        TCP_NODELAY: "1",
        LD_PRELOAD: this.layout.loopbackLibrary,
      },
      cwd: this.paths.dir,
      logFile: this.paths.log,
      pidFile: this.paths.pid,
      uid: orthanc.uid,
      gid: orthanc.gid,
    });
    writeFileSync(this.paths.fingerprint, `${orthancFingerprint(runtime)}\n`);
    await this.waitReady(pid, runtime, timeoutMs);
    return pid;
  }

  private async waitReady(pid: number, runtime: OrthancRuntime, timeoutMs: number): Promise<void> {
    const line = progress(`waiting for ${this.name} (pid ${pid}) to answer on 127.0.0.1:${runtime.facts.httpPort}`);
    const deadline = Date.now() + timeoutMs;
    let status = 0;
    while (Date.now() < deadline) {
      if (!isRunning(pid, orthancExecutable)) {
        line.fail(`${this.name} exited`);
        throw new TaskError(`${this.name} exited during startup; the end of ${this.paths.log}:\n${logTail(this.paths.log, 20)}`, {
          hint: "a configuration the chart renders for Orthanc 1.13 may use keys or values 1.10 rejects; PostgreSQL errors mean the database is unreachable",
        });
      }
      status = await orthancStatus(runtime.facts.httpPort, runtime.facts.login);
      if (status === 200) {
        line.done(`${this.name} answers on 127.0.0.1:${runtime.facts.httpPort} (pid ${pid})`);
        return;
      }
      line.update(status ? `HTTP ${status}` : "no answer yet");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    line.fail(`${this.name} did not become ready`);
    throw new TaskError(`${this.name} did not answer /system with 200 within ${timeoutMs / 1000}s (last: ${status || "no answer"}); the end of its log:\n${logTail(this.paths.log, 20)}`, {
      code: "timeout",
    });
  }

  /** SIGTERM and wait: Orthanc takes a few seconds to close its database. */
  stop(): Promise<boolean> {
    return stopByPidFile(this.paths.pid, orthancExecutable, this.name, 60_000);
  }

  /** SIGKILL, no shutdown at all (a crash, an OOM kill): for fault tests. Returns the PID it killed. */
  async kill(): Promise<number | undefined> {
    const pid = this.pid;
    if (pid !== undefined) await killPid(pid, orthancExecutable);
    return pid;
  }
}
