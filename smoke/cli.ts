// `make smoke`: finds the target, runs the suite, prints the table, writes the
// JSON report, and exits non-zero when a check fails.
import { join } from "node:path";
import { TaskError } from "../tasks/lib/errors.ts";
import { log, style } from "../tasks/lib/log.ts";
import { displayPath, workDir } from "../tasks/lib/paths.ts";
import { main, type Task } from "../tasks/lib/task.ts";
import { runSmoke, type SmokeReport } from "./checks.ts";
import { discoverTarget, TargetOptions, targetFlags } from "./discover.ts";
import { summaryLine, tableHeader, tableRow, writeReport } from "./report.ts";
import { localTargetFile, type SmokeTarget } from "./target.ts";

export const defaultReportFile = join(workDir, "smoke", "report.json");

/** Runs the suite with live table rows; returns the report (does not throw on failed checks). */
export async function smokeWithTable(target: SmokeTarget, reportFile = defaultReportFile): Promise<SmokeReport> {
  log.info(`target: ${target.label}`);
  if (target.plain) log.info(`  REACHED WITHOUT TLS: ${target.plain.why}; HTTP :${target.httpsPort} and DICOM :${target.dicomPort} at ${target.host}; login: ${target.credentialsSource}`);
  else log.info(`  https://${target.webName}:${target.httpsPort} and DICOM ${target.dicomName}:${target.dicomPort} at ${target.host}; CA: ${target.caSource}; login: ${target.credentialsSource}`);
  log.plain(tableHeader());
  const report = await runSmoke(target, { onResult: (result) => log.plain(tableRow(result)) });
  for (const leftover of report.leftovers) log.warn(`left behind: ${leftover}`);
  writeReport(reportFile, report);
  log.plain(summaryLine(report));
  log.info(`report: ${displayPath(reportFile)}`);
  return report;
}

export const smokeTask: Task = {
  id: "smoke",
  title: "Smoke: DICOM-TLS and HTTPS end to end",
  summary:
    "Checks a deployed target as a modality and a user would: TLS on the HTTPS and DICOM ports (chain, SAN, TLS 1.2+, no TLS 1.0/1.1), " +
    "REST with and without credentials, C-ECHO, C-STORE of a new instance over TLS, the instance found over REST with equal tags and bytes, then deleted. " +
    "Target: --target local (the stack of `make local-up`), kube (current kube context), or explicit (--host, …); auto picks one. " +
    "Prints a table, writes a JSON report (--report FILE), exits 1 when a check fails.",
  flags: { ...targetFlags, report: { type: "string", description: "JSON report file (default .work/smoke/report.json)" } },
  run: async (ctx) => {
    const options = new TargetOptions(ctx.flags);
    const { kind, target } = await discoverTarget(options, ctx.settings, ctx.kube, localTargetFile());
    log.info(`${style.bold(kind)} target${options.get("target") ? "" : " (auto: --target to choose)"}`);
    if (ctx.dryRun) {
      target.stop?.();
      log.info("[dry-run] would run the checks against it");
      return;
    }
    const reportFile = typeof ctx.flags.report === "string" ? ctx.flags.report : defaultReportFile;
    let report: SmokeReport;
    try {
      report = await smokeWithTable(target, reportFile);
    } finally {
      target.stop?.();
    }
    if (!report.passed) {
      const failed = report.checks.filter((c) => c.status === "fail");
      throw new TaskError(`${failed.length} smoke check${failed.length === 1 ? "" : "s"} failed: ${failed.map((c) => c.id).join(", ")}`, {
        hint: "each failed row above names its likely cause",
      });
    }
  },
};

if (import.meta.main) await main("smoke", [smokeTask]);
