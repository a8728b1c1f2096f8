// Fault tests on the local stack with real processes (Orthanc 1.10 + the
// PostgreSQL plugin, PostgreSQL 15, haproxy standing in for the gateway), in
// a folder and on ports of their own, so a user's `make demo` may keep
// running. Each fault is injected by PID while instances are being stored
// over DICOM-TLS through the proxy; then every instance the sender saw
// acknowledged must be stored, once, byte for byte, and every other one must
// have been reported to the sender. The figures are printed (docs/reliability.md).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { dicomEndpoint, runSmoke, type SmokeReport } from "../../smoke/checks.ts";
import { Ingest, tally, type IngestPlan, type SentInstance } from "../../smoke/ingest.ts";
import { checkPresence, storedAmong } from "../../smoke/presence.ts";
import { RestClient } from "../../smoke/rest.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { ScratchStack } from "../../proving-ground/local/scratch-stack.ts";
import { acknowledged, notAcknowledged, printFigures as figures, RestProbe, seconds } from "../../proving-ground/reliability/fault-stream.ts";
import { useCapturedLog } from "../helpers/log.ts";

const ports = { https: 24443, dicom: 24112, postgresql: 24432, orthancHttp: 24042, orthancDicom: 24242 };
const dir = mkdtempSync(join(tmpdir(), "korthweb-faults-"));


/** The smoke CLI as a user runs it (`make smoke` against this stack): exit code, output, and its JSON report. */
function smokeCli(stack: ScratchStack, reportFile: string): Promise<{ code: number; output: string; report: SmokeReport }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fromRoot("smoke", "cli.ts"), "--target", "local", "--report", reportFile], {
      env: { ...process.env, KORTHWEB_LOCAL_DIR: stack.settings.dir, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, output, report: JSON.parse(readFileSync(reportFile, "utf8")) as SmokeReport }));
  });
}

describe("fault tests: nothing acknowledged is lost, every failure is reported", () => {
  useCapturedLog();
  let stack: ScratchStack;

  beforeAll(async () => {
    stack = await ScratchStack.up({ dir, ports, callingAets: ["KORTHWEB-FAULT"] });
  }, 180_000);

  afterAll(async () => {
    await stack?.down();
  }, 120_000);

  // Each test starts from a running stack, whatever the one before left.
  beforeEach(async () => {
    await stack.ensureUp();
  }, 120_000);

  const plan = (runId: string, senders: number, batch: number): IngestPlan => {
    const target = stack.target();
    return { endpoint: dicomEndpoint(target, "KORTHWEB-FAULT"), calledAet: target.calledAet, senders, batch, pixelBytes: 4096, runId };
  };

  it("kill -9 Orthanc during C-STOREs on 4 associations: every acknowledged instance stored byte for byte, every other one reported", async () => {
    const target = stack.target();
    const rest = new RestClient(target);
    try {
      const ingest = new Ingest(plan(`kill-${Date.now()}`, 4, 30));
      const sending = ingest.run(1);
      await ingest.waitFor((records) => tally(records).acknowledged >= 20, 60_000, "20 instances acknowledged before the kill");
      const killed = await stack.orthanc().kill();
      await sending;
      expect(killed).toBeDefined();

      // While Orthanc is down, a modality trying again is told too (the proxy accepts TLS, then closes).
      const whileDown = new Ingest(plan(`${ingest.plan.runId}-down`, 1, 2));
      await whileDown.run(1);

      const sent = tally(ingest.records);
      expect(sent.sent).toBe(120);
      expect(sent.silent).toBe(0);
      expect(sent.acknowledged).toBeGreaterThanOrEqual(20);
      // The kill hit stores in flight: some were not acknowledged, and each of those has the reason the sender saw.
      expect(sent.broken + sent.refused).toBeGreaterThan(0);
      for (const record of notAcknowledged(ingest.records)) expect(record.cause, record.instance.sopInstanceUid).toBeTruthy();
      expect(tally(whileDown.records)).toMatchObject({ sent: 2, acknowledged: 0, silent: 0, broken: 2 });

      const restart = performance.now();
      await stack.ensureUp();
      const restartMs = performance.now() - restart;
      expect(stack.orthanc().pid).not.toBe(killed);

      const ackedRecords = acknowledged(ingest.records);
      const presence = await checkPresence(rest, ackedRecords.map((record) => record.instance));
      expect(presence).toMatchObject({ missing: [], duplicated: [], differing: [], found: ackedRecords.length });
      // Not acknowledged but stored anyway is allowed (committed, then killed before the answer); a resend settles it.
      const failed = [...notAcknowledged(ingest.records), ...whileDown.records];
      const storedAnyway = await storedAmong(rest, failed.map((record) => record.instance.sopInstanceUid));

      const resent = await ingest.resend(failed);
      expect(tally(resent)).toMatchObject({ sent: failed.length, acknowledged: failed.length });
      const everything = await checkPresence(rest, [...ingest.records, ...whileDown.records].map((record) => record.instance));
      expect(everything).toMatchObject({ missing: [], duplicated: [], differing: [], found: 122 });

      figures("orthanc-kill", {
        sent: sent.sent,
        acknowledged: sent.acknowledged,
        refused: sent.refused,
        broken: sent.broken,
        silent: sent.silent,
        acknowledgedFound: presence.found,
        failedButStored: storedAnyway.size,
        sentWhileDown: 2,
        reportedWhileDown: tally(whileDown.records).broken,
        reportedWhileDownAfter: seconds(Math.max(...whileDown.records.map((record) => record.at))),
        causes: [...new Set(failed.map((record) => record.cause))],
        restart: seconds(restartMs),
        afterResendFound: `${everything.found} of ${everything.checked}`,
      });
    } finally {
      rest.close();
    }
  }, 120_000);

  it("PostgreSQL restarted during ingest: Orthanc (same PID) recovers by itself, nothing acknowledged is lost, smoke passes", async () => {
    const target = stack.target();
    const rest = new RestClient(target);
    const probeClient = new RestClient(target);
    const postgresql = stack.postgresql();
    const orthancPid = stack.orthanc().pid;
    const ingest = new Ingest(plan(`pg-${Date.now()}`, 3, 4));
    let stop = false;
    const sending = ingest.runUntil(() => stop, 50);
    const probe = new RestProbe(probeClient, () => ingest.now());
    try {
      await ingest.waitFor((records) => tally(records).acknowledged >= 20, 60_000, "20 instances acknowledged before the restart");
      const stopAt = ingest.now();
      await postgresql.stop();
      const stoppedAt = ingest.now();
      await postgresql.start();
      const upAt = ingest.now();
      const afterUp = (records: readonly SentInstance[]) => records.filter((record) => record.fate === "acknowledged" && record.at > upAt);
      // The plugin retries the connection every ConnectionRetryInterval (chart: 1 s), up to MaximumConnectionRetries (60) times.
      await ingest.waitFor((records) => afterUp(records).length >= 20, 90_000, "20 instances acknowledged after PostgreSQL is back");
      stop = true;
      await sending;
      await probe.stop();

      expect(stack.orthanc().pid).toBe(orthancPid);
      const sent = tally(ingest.records);
      expect(sent.silent).toBe(0);
      for (const record of notAcknowledged(ingest.records)) expect(record.cause, record.instance.sopInstanceUid).toBeTruthy();
      const firstStore = Math.min(...afterUp(ingest.records).map((record) => record.at));
      const firstRest = probe.answers.find((answer) => answer.at > upAt && answer.status === 200)?.at;
      expect(firstRest).toBeDefined();

      const ackedRecords = acknowledged(ingest.records);
      const presence = await checkPresence(rest, ackedRecords.map((record) => record.instance));
      expect(presence).toMatchObject({ missing: [], duplicated: [], differing: [], found: ackedRecords.length });
      const failed = notAcknowledged(ingest.records);
      const storedAnyway = await storedAmong(rest, failed.map((record) => record.instance.sopInstanceUid));
      const phase = (record: SentInstance) => (record.at < stopAt ? "before" : record.at <= upAt ? "during" : "after");
      const ackedBy = { before: 0, during: 0, after: 0 };
      for (const record of ackedRecords) ackedBy[phase(record)]++;

      const smoke = await runSmoke(target);
      // All pass but the gitops-only check (another tenant's client certificate), which says why it skips.
      expect(smoke.checks.filter((check) => check.status !== "pass").map((check) => `${check.id} ${check.status}`)).toEqual(["dicom-client-foreign skip"]);

      figures("postgresql-restart", {
        sent: sent.sent,
        acknowledged: sent.acknowledged,
        acknowledgedBeforeDuringAfter: ackedBy,
        refused: sent.refused,
        broken: sent.broken,
        silent: sent.silent,
        acknowledgedFound: presence.found,
        failedButStored: storedAnyway.size,
        causes: [...new Set(failed.map((record) => record.cause))],
        postgresqlStop: seconds(stoppedAt - stopAt),
        postgresqlDown: seconds(upAt - stopAt),
        recoveryFirstStore: seconds(firstStore - upAt),
        recoveryFirstRestDbCall: seconds(firstRest! - upAt),
        restFailuresDuringOutage: probe.answers.filter((answer) => answer.at > stopAt && answer.status !== 200).length,
        orthancPid: "unchanged",
      });
    } finally {
      stop = true;
      await sending;
      await probe.stop();
      rest.close();
      probeClient.close();
    }
  }, 180_000);

  it("the TLS proxy killed: smoke exits non-zero saying it cannot connect; after the proxy restarts it passes", async () => {
    const orthancPid = stack.orthanc().pid;
    const killed = await stack.proxy().kill();
    expect(killed).toBeDefined();

    const down = await smokeCli(stack, join(dir, "smoke-down.json"));
    expect(down.code).toBe(1);
    const cause = (id: string) => down.report.checks.find((check) => check.id === id)?.cause ?? "";
    const https = `cannot connect to 127.0.0.1:${ports.https}: connection refused`;
    const dicom = `cannot connect to 127.0.0.1:${ports.dicom}: connection refused`;
    expect(cause("tls-https")).toContain(https);
    expect(cause("tls-dicom")).toContain(dicom);
    expect(cause("rest-auth")).toContain(https);
    expect(cause("dicom-echo")).toContain(dicom);
    expect(cause("dicom-store")).toContain(dicom);
    // The table a user reads says it too, and the summary names the failed checks.
    expect(down.output).toContain(https);
    expect(down.output).toContain(dicom);
    expect(down.output).toMatch(/smoke checks? failed: tls-https/);

    const restart = performance.now();
    await stack.ensureUp();
    const restartMs = performance.now() - restart;
    expect(stack.proxy().pid).not.toBe(killed);
    expect(stack.orthanc().pid).toBe(orthancPid);
    const up = await smokeCli(stack, join(dir, "smoke-up.json"));
    expect(up.code, up.output).toBe(0);
    expect(up.output).toContain("smoke: 17 passed, 0 failed");

    figures("proxy-kill", {
      smokeWhileDown: `exit ${down.code}, ${down.report.checks.filter((check) => check.status === "fail").length} checks failed`,
      cause: cause("tls-https"),
      proxyRestart: seconds(restartMs),
      smokeAfterRestart: `exit ${up.code}`,
    });
  }, 120_000);
});
