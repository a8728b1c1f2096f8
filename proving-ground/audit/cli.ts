// `make audit`: is anything open that should not be? Offline, for every
// approach as installed: workloads (root, privileged, host access), Secrets
// read but never created, credentials in plain config, ports exposed without
// TLS ≥ 1.2; and the repository scanned for secret material. Live, against a
// running target (by default the local stack, started if needed): old TLS and
// weak ciphers refused, REST closed without credentials, wrong AE title
// rejected, nothing in clear. Exits 9 when anything is found.
import { discoverTarget, TargetOptions, targetFlags } from "../../smoke/discover.ts";
import { TaskError } from "../../tasks/lib/errors.ts";
import { log, style } from "../../tasks/lib/log.ts";
import { main, type Task, type TaskContext } from "../../tasks/lib/task.ts";
import { task as packages } from "../local/01-packages.ts";
import { task as render } from "../local/02-render.ts";
import { task as postgresql } from "../local/03-postgresql.ts";
import { task as orthanc } from "../local/04-orthanc.ts";
import { task as proxy } from "../local/05-proxy.ts";
import { localLayout } from "../local/layout.ts";
import { localFlags, loadLocalSettings } from "../local/settings.ts";
import { allInstallations } from "./installations.ts";
import { auditLive, type LiveResult } from "./live-audit.ts";
import { auditInstallation, auditRepository, type AuditFinding } from "./static-audit.ts";

export const formatAuditFinding = (f: AuditFinding) => `${f.approach}: ${f.file}: ${f.object}: ${f.path}: [${f.rule}] ${f.message}`;

export async function offlineAudit(): Promise<{ findings: AuditFinding[]; summary: string[] }> {
  const installations = await allInstallations();
  const findings = installations.flatMap(auditInstallation);
  const summary = installations.map((i) => `${i.approach}: ${i.objects.length} objects, ${i.exposures.length} ingress${i.exposures.length === 1 ? "" : "es"}, ${i.taskSecrets.length} Secrets from tasks`);
  findings.push(...(await auditRepository()));
  return { findings, summary };
}

/** The live target: the one the flags name, else the local stack (brought up or reused first). */
async function liveTarget(ctx: TaskContext) {
  const options = new TargetOptions(ctx.flags);
  const localFile = localLayout(loadLocalSettings(ctx.settings, ctx.flags).dir).target;
  const wanted = options.get("target") ?? (options.get("host") ? "explicit" : "local");
  if (wanted === "local") {
    log.info("live target: the local stack (reused if running, started otherwise)");
    for (const step of [packages, render, postgresql, orthanc, proxy]) await step.run(ctx);
  }
  const flags = new TargetOptions({ ...ctx.flags, target: wanted });
  return (await discoverTarget(flags, ctx.settings, ctx.kube, localFile)).target;
}

export const auditTask: Task = {
  id: "audit",
  title: "Security audit: rendered approaches, repository, live endpoints",
  summary:
    "Offline, for the helm, manual and gitops approaches as their tasks install them: no container as root, privileged or with host access; every Secret read is created by the chart, cert-manager or a task; " +
    "no credentials in ConfigMaps or env literals; every externally exposed port is TLS with a 1.2 floor; and the whole repository scanned for secret material. " +
    "Live, against a running target (default: the local stack, started if needed; or --target kube / --host …): TLS 1.0/1.1 and weak ciphers refused on both ports, " +
    "REST answers 401 without credentials on a sample of routes, a wrong called AE title is rejected, neither port speaks in clear. Exits 9 on any finding.",
  flags: { ...targetFlags, ...localFlags, offline: { type: "boolean", description: "skip the live checks" } },
  run: async (ctx) => {
    const { findings, summary } = await offlineAudit();
    for (const line of summary) log.info(line);
    for (const finding of findings) log.plain(`  ${style.red("✗")} ${formatAuditFinding(finding)}`);
    log.plain(findings.length ? style.red(`offline: ${findings.length} finding(s)`) : style.green("✓ offline: no findings (3 approaches, repository scan)"));

    let live: LiveResult[] = [];
    if (ctx.flags.offline === true) log.info("live checks skipped (--offline)");
    else if (ctx.dryRun) log.info(`${style.yellow("[dry-run]")} would check the live target`);
    else {
      const target = await liveTarget(ctx);
      log.info(`live target: ${target.label}`);
      live = await auditLive(target);
      for (const result of live) log.plain(`  ${result.passed ? style.green("✓") : style.red("✗")} ${result.title} — ${result.detail}`);
    }
    const failedLive = live.filter((result) => !result.passed);
    if (findings.length + failedLive.length > 0) {
      throw new TaskError(`audit: ${findings.length} offline finding(s), ${failedLive.length} live check(s) failed`, {
        code: "findings",
        hint: "each line above names the file or endpoint and what is wrong",
      });
    }
    log.plain(style.green(`✓ audit passed${live.length ? `: ${live.length} live checks` : ""}`));
  },
};

if (import.meta.main) await main("audit", [auditTask]);
