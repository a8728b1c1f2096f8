// A local stack in a folder and on ports of its own, for tests and audits
// that must neither touch nor collide with a user's `make local-up`: the same
// steps as make local-up (render, PostgreSQL, Orthanc, proxy), called directly
// with explicit settings (no environment variables). Everything it starts is
// stopped by PID in down() — tests call it from afterAll, so also after a
// failure — and, as a last resort, when the process exits.
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localTarget, TargetOptions } from "../../smoke/discover.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { Helm } from "../../tasks/lib/helm.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { orthancInstances, type OrthancInstance } from "./instances.ts";
import { localLayout, orthancInstancePaths, type LocalLayout } from "./layout.ts";
import { LocalOrthanc, orthancExecutable } from "./orthanc.ts";
import { stopByPidFile } from "../../tasks/lib/processes.ts";
import { LocalPostgresql } from "./postgresql.ts";
import { LocalProxy } from "./proxy.ts";
import { loadRuntime, type OrthancRuntime } from "./runtime.ts";
import { loadLocalSettings, type LocalSettings } from "./settings.ts";
import { orthancStep, postgresqlStep, proxyStep, renderStep, stackDown, stackProcesses, type StackProcesses } from "./stack.ts";

export interface ScratchPorts {
  /** The proxy's HTTPS and DICOM-TLS ports, and PostgreSQL's. */
  https: number;
  dicom: number;
  postgresql: number;
  /** Orthanc's own ports (instance N uses these + N-1). */
  orthancHttp: number;
  orthancDicom: number;
}

export interface ScratchStackOptions {
  /** A folder only this stack uses; created, and deleted by down(). The servers' accounts must be able to enter it. */
  dir: string;
  ports: ScratchPorts;
  orthancInstances?: number;
  /** Calling AE titles to register (dicom.modalities), besides the smoke client's: only registered ones may store. */
  callingAets?: readonly string[];
}

const stacksToStopAtExit = new Set<ScratchStack>();
let exitHookInstalled = false;

/** Last resort when a test process ends without down(): signal what still runs, by PID (synchronously: it is an exit hook). */
function stopAtExit(): void {
  for (const stack of stacksToStopAtExit) {
    // processes() lists only PIDs that are alive and run the expected executable.
    for (const [name, pid] of Object.entries(stack.processes())) {
      // PostgreSQL: SIGINT is its "fast" shutdown.
      if (pid !== undefined) process.kill(pid, name === "postgresql" ? "SIGINT" : "SIGTERM");
    }
  }
}

/** orthanc.pid files up to three levels below `dir`. */
function orthancPidFilesBelow(dir: string, depth = 3): string[] {
  if (depth === 0 || !existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return orthancPidFilesBelow(path, depth - 1);
    return entry.name === "orthanc.pid" ? [path] : [];
  });
}

export class ScratchStack {
  readonly dir: string;
  readonly settings: LocalSettings;
  readonly layout: LocalLayout;

  private constructor(dir: string, settings: LocalSettings) {
    this.dir = dir;
    this.settings = settings;
    this.layout = localLayout(settings.dir);
  }

  /** Settings for a stack under `dir` (nothing started). */
  static prepare(options: ScratchStackOptions): ScratchStack {
    mkdirSync(options.dir, { recursive: true });
    chmodSync(options.dir, 0o755);
    const values = join(options.dir, "orthanc-ports.values.yaml");
    const modalities = (options.callingAets ?? []).map((aet) => `    - {aet: ${aet}, host: 127.0.0.1, port: 104}\n`).join("");
    writeFileSync(
      values,
      `orthanc:\n  httpPort: ${options.ports.orthancHttp}\n  dicomPort: ${options.ports.orthancDicom}\n${modalities ? `dicom:\n  modalities:\n${modalities}` : ""}`,
    );
    const flags = {
      "https-port": String(options.ports.https),
      "dicom-port": String(options.ports.dicom),
      "pg-port": String(options.ports.postgresql),
      "orthanc-instances": String(options.orthancInstances ?? 1),
    };
    const base = loadLocalSettings(defaults, flags, {});
    const settings: LocalSettings = { ...base, dir: join(options.dir, "local"), valuesFiles: [...base.valuesFiles, values] };
    return new ScratchStack(options.dir, settings);
  }

  /** Renders the chart and starts PostgreSQL, Orthanc (each instance) and the proxy. */
  static async up(options: ScratchStackOptions): Promise<ScratchStack> {
    const stack = ScratchStack.prepare(options);
    stacksToStopAtExit.add(stack);
    if (!exitHookInstalled) {
      process.on("exit", stopAtExit);
      exitHookInstalled = true;
    }
    try {
      await renderStep(new Helm({ context: undefined, dryRun: false }), stack.settings);
      await stack.ensureUp();
    } catch (error) {
      // The caller has no stack to call down() on: stop what did start.
      await stack.down();
      throw error;
    }
    return stack;
  }

  /** Starts whatever is not running as wanted (each step reuses what is): after a fault, brings the stack back. */
  async ensureUp(): Promise<void> {
    await postgresqlStep(this.settings);
    await orthancStep(this.settings);
    await proxyStep(this.settings);
  }

  /** What a client uses: through the proxy, with the stack's CA and login. */
  target(): SmokeTarget {
    return localTarget(new TargetOptions({}, {}), this.layout.target, {});
  }

  /** Instance 1's runtime (configuration, env, facts). */
  runtime(): OrthancRuntime {
    return loadRuntime(this.layout, this.settings);
  }

  instances(): OrthancInstance[] {
    return orthancInstances(this.layout, this.runtime(), this.settings.orthancInstances);
  }

  orthanc(instance = 1): LocalOrthanc {
    const found = this.instances().find((i) => i.number === instance);
    return found ? new LocalOrthanc(this.layout, found.paths, found.name) : new LocalOrthanc(this.layout, orthancInstancePaths(this.layout, instance));
  }

  postgresql(): LocalPostgresql {
    return new LocalPostgresql(this.layout, this.settings.ports.postgresql);
  }

  proxy(): LocalProxy {
    return new LocalProxy(this.layout);
  }

  processes(): StackProcesses {
    return stackProcesses(this.settings, this.layout);
  }

  /**
   * Stops every process by PID (proxy, each Orthanc, PostgreSQL) and deletes the folder. Orthancs a test
   * started elsewhere in the folder (e.g. with another overlay) are stopped too: by any orthanc.pid below it.
   */
  async down(): Promise<void> {
    try {
      await Promise.all(orthancPidFilesBelow(this.dir).map((pidFile) => stopByPidFile(pidFile, orthancExecutable, `Orthanc (${pidFile})`)));
      await stackDown(this.settings, { deleteData: false });
    } finally {
      stacksToStopAtExit.delete(this);
      // Only when nothing of ours still runs: a folder must not vanish under a live server.
      const alive = Object.values(this.processes()).some((pid) => pid !== undefined);
      if (!alive) rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
