// `make demo`: the chart's Orthanc configuration running for real — Debian's
// Orthanc with the PostgreSQL plugins, a private PostgreSQL, haproxy as the
// stand-in for Traefik/Istio — then the smoke suite against it. Safe to run
// again: parts already running as wanted are reused.
import { smokeWithTable } from "../../smoke/cli.ts";
import { localTarget, TargetOptions } from "../../smoke/discover.ts";
import { TaskError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { main, type Task, type TaskContext } from "../lib/task.ts";
import { localLayout } from "./layout.ts";
import { ensurePackages } from "./packages.ts";
import { loadLocalSettings, localFlags, type LocalSettings } from "./settings.ts";
import { orthancStep, postgresqlStep, printSummary, proxyStep, readTargetFile, renderStep } from "./stack.ts";

const settingsOf = (ctx: TaskContext): LocalSettings => loadLocalSettings(ctx.settings, ctx.flags);
const dryRunNote = (ctx: TaskContext, what: string): boolean => {
  if (ctx.dryRun) log.info(`[dry-run] would ${what}`);
  return ctx.dryRun;
};

export const packagesTask: Task = {
  id: "local/packages",
  title: "Debian packages: orthanc, orthanc-postgresql, postgresql, haproxy, dcmtk",
  summary: "Installs the Debian packages the local stack runs, with apt-get, when any is missing (needs root). Prints the installed versions.",
  flags: localFlags,
  run: (ctx) => ensurePackages(undefined, { dryRun: ctx.dryRun }),
};

export const renderTask: Task = {
  id: "local/render",
  title: "Render the chart; Orthanc configuration = rendered orthanc.json + local overlay",
  summary: "helm template helm/orthanc with tasks/local/values.yaml; keeps the chart's certificates; writes the effective orthanc.json and env under .work/local.",
  flags: localFlags,
  run: async (ctx) => {
    await renderStep(ctx.helm, settingsOf(ctx));
  },
};

/** A step that starts something: in --dry-run it only says what it would do. */
function startStep(id: string, title: string, summary: string, would: string, step: (settings: LocalSettings) => Promise<unknown>): Task {
  return {
    id,
    title,
    summary,
    flags: localFlags,
    run: async (ctx) => {
      if (!dryRunNote(ctx, would)) await step(settingsOf(ctx));
    },
  };
}

export const postgresqlTask = startStep(
  "local/postgresql",
  "Private PostgreSQL (127.0.0.1, SSL) with the database and login the configuration names",
  "initdb in .work/local/postgresql as user postgres, SSL on, TCP only with SSL and a password; starts it on --pg-port.",
  "initialize and start PostgreSQL",
  postgresqlStep,
);

export const orthancTask = startStep(
  "local/orthanc",
  "Orthanc 1.10 on the effective configuration, env from the Deployment",
  "Starts Debian's Orthanc as user orthanc with the container's env (Secret values generated under .work/local/secrets); waits until /system answers.",
  "start Orthanc",
  orthancStep,
);

export const proxyTask = startStep(
  "local/proxy",
  "TLS terminator: haproxy, standing in for Traefik/Istio, on the HTTPS and DICOM-TLS ports",
  "haproxy terminates TLS 1.2+ with the chart-generated certificate on 127.0.0.1:443 (HTTPS → Orthanc HTTP) and 127.0.0.1:11112 (TLS → Orthanc DICOM).",
  "start haproxy",
  proxyStep,
);

export const smokeLocalTask: Task = {
  id: "local/smoke",
  title: "Smoke suite against the local stack",
  summary: "Runs the smoke suite (smoke/) against the local stack and prints where everything is.",
  flags: localFlags,
  run: async (ctx) => {
    if (dryRunNote(ctx, "run the smoke suite")) return;
    const settings = settingsOf(ctx);
    const file = localLayout(settings.dir).target;
    const report = await smokeWithTable(localTarget(new TargetOptions({}, {}), file, {}));
    if (!report.passed) {
      throw new TaskError("the local stack runs, but the smoke suite failed", { hint: "see the causes above; logs are under .work/local/" });
    }
    printSummary(settings, readTargetFile(file)!);
  },
};

export const demoTasks = [packagesTask, renderTask, postgresqlTask, orthancTask, proxyTask, smokeLocalTask];

if (import.meta.main) await main("demo", demoTasks);
