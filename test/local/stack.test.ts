// The local stack from nothing, through the project's own entry points: the
// demo tasks install what is missing, render the chart, start PostgreSQL,
// Orthanc and haproxy, and the smoke suite passes. Then: it binds loopback
// only, Orthanc runs the effective configuration over SSL to PostgreSQL, a
// second run reuses it, the smoke suite names the cause of each broken
// target, and demo-down stops everything. Own folder and ports, so a
// developer's `make demo` may keep running meanwhile.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchTask, type Ratio } from "../../smoke/bench-cli.ts";
import type { BenchRun } from "../../smoke/bench.ts";
import { runSmoke, type SmokeReport } from "../../smoke/checks.ts";
import { localTarget, TargetOptions } from "../../smoke/discover.ts";
import { RestClient } from "../../smoke/rest.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { demoTasks } from "../../proving-ground/local/demo.ts";
import { downTask } from "../../proving-ground/local/down.ts";
import { localLayout } from "../../proving-ground/local/layout.ts";
import { LocalOrthanc } from "../../proving-ground/local/orthanc.ts";
import { LocalPostgresql } from "../../proving-ground/local/postgresql.ts";
import { isPortFree } from "../../tasks/lib/processes.ts";
import { loadRuntime } from "../../proving-ground/local/runtime.ts";
import { loadLocalSettings } from "../../proving-ground/local/settings.ts";
import { stackDown, stackListeners, stackProcesses } from "../../proving-ground/local/stack.ts";
import { useCapturedLog } from "../helpers/log.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-stack-"));
// The servers run as postgres and orthanc: they must be able to enter it.
chmodSync(dir, 0o755);
const ports = { https: 18443, dicom: 18112, postgresql: 18432, orthancHttp: 18042, orthancDicom: 18242 };
const flags = ["--https-port", String(ports.https), "--dicom-port", String(ports.dicom), "--pg-port", String(ports.postgresql)];
const valuesFile = join(dir, "test-values.yaml");
const stackDir = join(dir, "local");

const checkIds = (report: SmokeReport, status: "pass" | "fail") => report.checks.filter((c) => c.status === status).map((c) => c.id);
const causeOf = (report: SmokeReport, id: string) => report.checks.find((c) => c.id === id)?.cause ?? "";

describe("local stack: make demo from nothing, smoke, reuse, negative cases, make demo-down", () => {
  const lines = useCapturedLog();
  let target: SmokeTarget;
  let demoOutput = "";

  beforeAll(async () => {
    writeFileSync(valuesFile, `orthanc:\n  httpPort: ${ports.orthancHttp}\n  dicomPort: ${ports.orthancDicom}\n`);
    process.env.KORTHWEB_LOCAL_DIR = stackDir;
    process.env.KORTHWEB_LOCAL_VALUES = valuesFile;
    const code = await runTasks("demo", demoTasks, flags);
    demoOutput = lines.join("\n");
    if (code !== 0) throw new Error(`make demo failed (exit ${code}):\n${demoOutput}`);
    target = localTarget(new TargetOptions({}, {}), localLayout(stackDir).target, {});
  }, 1_500_000);

  afterAll(async () => {
    await stackDown(loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir }), { deleteData: true });
    rmSync(dir, { recursive: true, force: true });
    delete process.env.KORTHWEB_LOCAL_DIR;
    delete process.env.KORTHWEB_LOCAL_VALUES;
  }, 120_000);

  it("came up and the smoke suite passed every check inside make demo", () => {
    const text = demoOutput;
    expect(text).toMatch(/✓ smoke: 13 passed, 0 failed, 0 skipped/);
    expect(text).toContain("Local stack is up");
    expect(text).toContain("make demo-down");
  });

  it("listens on 127.0.0.1 only, on the configured ports", () => {
    const listeners = stackListeners(loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir }));
    expect(Object.keys(listeners).sort()).toEqual(["orthanc", "postgresql", "proxy"]);
    const all = Object.values(listeners).flat();
    for (const address of all) expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(listeners.orthanc).toEqual(expect.arrayContaining([`127.0.0.1:${ports.orthancHttp}`, `127.0.0.1:${ports.orthancDicom}`]));
    expect(listeners.proxy).toEqual(expect.arrayContaining([`127.0.0.1:${ports.https}`, `127.0.0.1:${ports.dicom}`]));
    expect(listeners.postgresql).toEqual([`127.0.0.1:${ports.postgresql}`]);
  });

  it("runs the effective configuration: /system matches it, PostgreSQL plugins loaded, sessions over SSL", async () => {
    const settings = loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir });
    const runtime = loadRuntime(localLayout(stackDir), settings);
    const rest = new RestClient(target);
    try {
      const { status, value } = await rest.json<Record<string, unknown>>({ path: "/system" });
      expect(status).toBe(200);
      expect(value).toMatchObject({
        Name: runtime.resolved.Name,
        DicomAet: runtime.resolved.DicomAet,
        HttpPort: ports.orthancHttp,
        DicomPort: ports.orthancDicom,
      });
      expect(String(value?.DatabaseBackendPlugin)).toContain("libOrthancPostgreSQLIndex");
      expect(String(value?.StorageAreaPlugin)).toContain("libOrthancPostgreSQLStorage");
    } finally {
      rest.close();
    }
    const sessions = await new LocalPostgresql(localLayout(stackDir), ports.postgresql).connectionsOf(runtime.facts.database.username);
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((session) => session.ssl)).toBe(true);
    // Orthanc got TCP_NODELAY=1 from the Deployment's env.
    const pid = stackProcesses(settings).orthanc!;
    expect(readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")).toContain("TCP_NODELAY=1");
  });

  it("reuses the running stack on a second make demo", async () => {
    const settings = loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir });
    const before = stackProcesses(settings);
    lines.length = 0;
    expect(await runTasks("demo", demoTasks, flags)).toBe(0);
    expect(stackProcesses(settings)).toEqual(before);
    const text = lines.join("\n");
    expect(text).toContain("PostgreSQL already running");
    expect(text).toContain("Orthanc already running with this configuration");
    expect(text).toMatch(/haproxy.*already running/);
  }, 120_000);

  it("make bench runs every case on both paths with both clients, reports figures and leaves nothing stored", async () => {
    const rest = new RestClient(target);
    const countInstances = async () => (await rest.json<string[]>({ path: "/instances" })).value?.length;
    try {
      const before = await countInstances();
      const reportFile = join(dir, "bench.json");
      const args = ["--small", "3", "--large", "2", "--concurrency", "2", "--repeat", "1", "--report", reportFile];
      expect(await runTasks("bench", [benchTask], args)).toBe(0);
      const report = JSON.parse(readFileSync(reportFile, "utf8")) as { runs: BenchRun[]; ratios: Ratio[] };
      const cases = report.runs.map((run) => `${run.client} ${run.path} ${run.size} ${run.count}`).sort();
      expect(cases).toEqual(["dcmjs-dimse direct large 2", "dcmjs-dimse direct small 3", "dcmjs-dimse ingress large 2", "dcmjs-dimse ingress small 3", "storescu direct large 2", "storescu direct small 3", "storescu ingress large 2", "storescu ingress small 3"]);
      for (const run of report.runs) {
        expect(run.failures, `${run.client} ${run.path} ${run.size}`).toBe(0);
        expect(run.instancesPerSecond).toBeGreaterThan(0);
        // Per-instance latency is only ours to measure (storescu reports none).
        if (run.client === "dcmjs-dimse") expect(run.p95Ms).toBeGreaterThanOrEqual(run.p50Ms!);
      }
      // Both ratios of the targets are computed for each size.
      expect(report.ratios.map((ratio) => ratio.what)).toEqual(expect.arrayContaining(["ingress/direct throughput, large (dcmjs-dimse)", "dcmjs-dimse/storescu throughput, large, ingress"]));
      expect(lines.join("\n")).toMatch(/ingress\/direct throughput, large \(dcmjs-dimse\)\s+\d+\.\d\d/);
      expect(await countInstances()).toBe(before);
    } finally {
      rest.close();
    }
  }, 300_000);

  it("names the cause when the CA is wrong", async () => {
    const other = join(dir, "other-ca");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Some Other CA", "-keyout", `${other}.key`, "-out", `${other}.crt`], { stdio: "ignore" });
    const report = await runSmoke({ ...target, ca: readFileSync(`${other}.crt`, "utf8"), caSource: "file other-ca.crt" });
    expect(report.passed).toBe(false);
    expect(causeOf(report, "tls-https")).toMatch(/^certificate not signed by the CA from file other-ca.crt/);
    expect(causeOf(report, "tls-dicom")).toMatch(/^certificate not signed by the CA from file other-ca.crt/);
    expect(causeOf(report, "dicom-echo")).toMatch(/certificate not signed by the CA|TLS refused/);
    expect(causeOf(report, "rest-auth")).toMatch(/certificate not signed by the CA/);
  }, 60_000);

  it("names the cause without credentials, and with wrong ones", async () => {
    const none = await runSmoke({ ...target, credentials: undefined, credentialsSource: "none given" }, { only: ["rest-auth", "rest-no-auth"] });
    expect(checkIds(none, "fail")).toEqual(["rest-auth"]);
    expect(causeOf(none, "rest-auth")).toBe("no credentials given (none given)");
    const wrong = await runSmoke({ ...target, credentials: { username: "admin", password: "wrong" }, credentialsSource: "test" }, { only: ["rest-auth"] });
    expect(causeOf(wrong, "rest-auth")).toBe("401: wrong credentials (test)");
  }, 60_000);

  it("names the cause when the called AE title is wrong", async () => {
    const report = await runSmoke({ ...target, calledAet: "NOT-ORTHANC" }, { only: ["dicom-echo", "dicom-store"] });
    expect(checkIds(report, "fail")).toEqual(["dicom-echo", "dicom-store"]);
    expect(causeOf(report, "dicom-echo")).toBe('association rejected: called AE title "NOT-ORTHANC" not recognized (the target checks the called AE title)');
  }, 60_000);

  it("shows the end of Orthanc's log when it exits during startup", async () => {
    const settings = loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir });
    const runtime = loadRuntime(localLayout(stackDir), settings);
    // A second Orthanc on the same database that cannot bind its DICOM port (80 is privileged; it runs as orthanc).
    const configText = runtime.configText
      .replace(`"HttpPort": ${ports.orthancHttp}`, '"HttpPort": 18043')
      .replace(`"DicomPort": ${ports.orthancDicom}`, '"DicomPort": 80');
    const broken = { ...runtime, configText, facts: { ...runtime.facts, httpPort: 18043, dicomPort: 80 } };
    const layout = localLayout(join(dir, "broken"));
    mkdirSync(layout.orthanc.dir, { recursive: true, mode: 0o755 });
    chmodSync(layout.root, 0o755);
    writeFileSync(layout.orthanc.config, configText);
    await expect(new LocalOrthanc(layout).start(broken, 30_000)).rejects.toThrow(/Orthanc exited during startup; the end of .*orthanc\.log:\n[\s\S]*The TCP port of the DICOM server is privileged or already in use/);
  }, 60_000);

  it("make demo-down stops everything, and smoke then says it cannot connect", async () => {
    const settings = loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir });
    expect(await runTasks("demo-down", [downTask], flags)).toBe(0);
    expect(stackProcesses(settings)).toEqual({ postgresql: undefined, orthanc: undefined, proxy: undefined });
    for (const port of Object.values(ports)) expect(await isPortFree(port)).toBe(true);
    const report = await runSmoke(target);
    expect(report.passed).toBe(false);
    expect(causeOf(report, "tls-https")).toBe(`cannot connect to 127.0.0.1:${ports.https}: connection refused, nothing listens there (gateway or stack down, or wrong address/port)`);
    expect(causeOf(report, "dicom-echo")).toContain(`cannot connect to 127.0.0.1:${ports.dicom}: connection refused`);
    expect(causeOf(report, "rest-lookup")).toBe("needs dicom-store, rest-auth");
  }, 120_000);
});
