// The local stack from nothing, through the project's own entry points: the
// demo tasks install what is missing, render the chart, start PostgreSQL,
// Orthanc and haproxy, and the smoke suite passes. Then: it binds loopback
// only, Orthanc runs the effective configuration over SSL to PostgreSQL, a
// second run reuses it, the smoke suite names the cause of each broken
// target, and demo-down stops everything. Own folder and ports, so a
// developer's `make local-up` may keep running meanwhile.
import { execFileSync, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchTask, type Ratio } from "../../smoke/bench-cli.ts";
import type { BenchRun } from "../../smoke/bench.ts";
import { runSmoke, type SmokeReport } from "../../smoke/checks.ts";
import { localTarget, TargetOptions } from "../../smoke/discover.ts";
import { RestClient } from "../../smoke/rest.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { handshake, refusalOf } from "../../smoke/tls-probe.ts";
import { kitFiles, modalityCertTask } from "../../tasks/modality/cert.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { localUpTasks } from "../../proving-ground/local/up.ts";
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

describe("local stack: make local-up from nothing, smoke, reuse, negative cases, make local-down", () => {
  const lines = useCapturedLog();
  let target: SmokeTarget;
  let demoOutput = "";

  beforeAll(async () => {
    // A registered modality: the one `make modality-cert` issues a certificate for below.
    writeFileSync(
      valuesFile,
      `orthanc:\n  httpPort: ${ports.orthancHttp}\n  dicomPort: ${ports.orthancDicom}\ndicom:\n  modalities:\n    - {name: ct-scanner-1, aet: CT-SCANNER-1, host: 127.0.0.1, port: 104}\n`,
    );
    process.env.KORTHWEB_LOCAL_DIR = stackDir;
    process.env.KORTHWEB_LOCAL_VALUES = valuesFile;
    const code = await runTasks("local-up", localUpTasks, flags);
    demoOutput = lines.join("\n");
    if (code !== 0) throw new Error(`make local-up failed (exit ${code}):\n${demoOutput}`);
    target = localTarget(new TargetOptions({}, {}), localLayout(stackDir).target, {});
  }, 1_500_000);

  afterAll(async () => {
    await stackDown(loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir }), { deleteData: true });
    rmSync(dir, { recursive: true, force: true });
    delete process.env.KORTHWEB_LOCAL_DIR;
    delete process.env.KORTHWEB_LOCAL_VALUES;
  }, 120_000);

  it("came up and the smoke suite passed every check inside make local-up", () => {
    const text = demoOutput;
    // Every check but "another deployment's certificate" (gitops only) runs here.
    expect(text).toMatch(/✓ smoke: 17 passed, 0 failed, 1 skipped/);
    expect(text).toContain("TLS policy from the chart's TLSOptions: HTTPS TLS 1.2 (6 suites) and 1.3; DICOM TLS 1.2 (6 suites) and 1.3, client certificate required (modality CA)");
    expect(text).toContain("Local stack is up");
    expect(text).toContain("make local-down");
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

  it("reuses the running stack on a second make local-up", async () => {
    const settings = loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir });
    const before = stackProcesses(settings);
    lines.length = 0;
    expect(await runTasks("local-up", localUpTasks, flags), lines.join("\n")).toBe(0);
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
      expect(await runTasks("bench", [benchTask], args), lines.join("\n")).toBe(0);
      const report = JSON.parse(readFileSync(reportFile, "utf8")) as { runs: BenchRun[]; ratios: Ratio[] };
      const cases = report.runs.map((run) => `${run.client} ${run.path} ${run.size} ${run.count}`).sort();
      expect(cases).toEqual([
        "dcmjs-dimse direct large 2", "dcmjs-dimse direct small 3", "dcmjs-dimse ingress large 2", "dcmjs-dimse ingress small 3", "dcmjs-dimse tls-only large 2", "dcmjs-dimse tls-only small 3",
        "storescu direct large 2", "storescu direct small 3", "storescu ingress large 2", "storescu ingress small 3", "storescu tls-only large 2", "storescu tls-only small 3",
      ]);
      for (const run of report.runs) {
        expect(run.failures, `${run.client} ${run.path} ${run.size}`).toBe(0);
        expect(run.instancesPerSecond).toBeGreaterThan(0);
        // Per-instance latency is only ours to measure (storescu reports none).
        if (run.client === "dcmjs-dimse") expect(run.p95Ms).toBeGreaterThanOrEqual(run.p50Ms!);
      }
      // Both ratios of the targets are computed for each size.
      expect(report.ratios.map((ratio) => ratio.what)).toEqual(expect.arrayContaining(["ingress/direct throughput, large (dcmjs-dimse)", "dcmjs-dimse/storescu throughput, large, ingress"]));
      expect(lines.join("\n")).toMatch(/ingress\/direct throughput, large \(dcmjs-dimse\)\s+\d+\.\d\d/);
      // The cost of mutual TLS: association setup timed on every path, and the comparison printed.
      const setups = (JSON.parse(readFileSync(reportFile, "utf8")) as { associationSetup: { path: string; p50Ms: number; failures: number }[] }).associationSetup;
      expect(setups.map((setup) => setup.path)).toEqual(["ingress", "tls-only", "direct"]);
      for (const setup of setups) expect(setup.failures, setup.path).toBe(0);
      expect(lines.join("\n")).toMatch(/mutual TLS cost: association setup p50 \d+\.\d ms vs \d+\.\d ms server-only TLS/);
      // The comparison terminator is gone again, and the stack's own proxy still asks for certificates.
      expect(stackListeners(loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir })).proxy?.sort()).toEqual([`127.0.0.1:${ports.dicom}`, `127.0.0.1:${ports.https}`].sort());
      expect(await countInstances()).toBe(before);
    } finally {
      rest.close();
    }
  }, 300_000);

  it("mutual TLS, live: 443 completes without a client certificate, 11112 refuses one (TLS 1.3 and 1.2)", async () => {
    const common = { host: "127.0.0.1", ca: target.ca, minVersion: "TLSv1.2" as const };
    for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
      const web = await handshake({ ...common, maxVersion, port: ports.https, servername: target.webName, expectName: target.webName });
      expect(web.completed && !web.error, `443 ${maxVersion}: ${web.error?.message}`).toBe(true);
      const dicom = await handshake({ ...common, maxVersion, port: ports.dicom, expectName: target.dicomName });
      expect(refusalOf(dicom), maxVersion).toBe(maxVersion === "TLSv1.3" ? "tlsv13 alert certificate required" : "ssl/tls alert handshake failure");
      const withCert = await handshake({ ...common, maxVersion, port: ports.dicom, expectName: target.dicomName, cert: target.client!.cert, key: target.client!.key });
      expect(withCert.completed && !withCert.error, `11112 ${maxVersion} with the smoke client's certificate: ${withCert.error?.message}`).toBe(true);
    }
  }, 60_000);

  it("each negative check fails for its own reason: no certificate, another CA, expired, unregistered calling AE title", async () => {
    const report = await runSmoke(target, { only: ["tls-dicom", "dicom-echo", "dicom-client-none", "dicom-client-other-ca", "dicom-client-expired", "dicom-unregistered-aet"] });
    const detail = (id: string) => report.checks.find((c) => c.id === id)?.detail;
    expect(checkIds(report, "fail")).toEqual([]);
    expect(detail("dicom-client-none")).toBe("refused: tlsv13 alert certificate required");
    expect(detail("dicom-client-other-ca")).toBe("refused: tlsv1 alert unknown ca (a CA made for this check)");
    expect(detail("dicom-client-expired")).toMatch(/^refused: ssl\/tls alert certificate expired \(expired yesterday, signed by the local modality CA/);
    expect(detail("dicom-unregistered-aet")).toBe('rejected: calling AE title "KORTHWEB-NOBODY" not accepted (DicomAlwaysAllowEcho/Store off, no DicomModalities entry?)');
    // Without the smoke client's certificate, the positive checks fail, naming the cause.
    const without = await runSmoke({ ...target, client: undefined }, { only: ["tls-dicom", "dicom-echo"] });
    expect(causeOf(without, "tls-dicom")).toMatch(/client certificate/);
    expect(causeOf(without, "dicom-echo")).toMatch(/closed before any DICOM answer|client certificate/);
  }, 120_000);

  it("make modality-cert --approach local: a kit that dcmtk's storescu uses (+tls key cert +cf ca); smoke takes it by --client-cert/--client-key; bad input writes nothing", async () => {
    const out = join(dir, "kit");
    expect(await runTasks("modality-cert", [modalityCertTask], ["--name", "ct-scanner-1", "--approach", "local", "--out", out]), lines.join("\n")).toBe(0);
    const kit = kitFiles(out, "ct-scanner-1");
    expect(statSync(kit.key).mode & 0o777).toBe(0o600);
    expect(statSync(kit.p12).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(kit.cert));
    expect(cert.subject).toBe("CN=ct-scanner-1");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(cert.verify(new X509Certificate(readFileSync(kit.modalityCa)).publicKey)).toBe(true);
    // The PKCS#12 bundle opens with the generated passphrase (read from the file by openssl, not from a command line).
    execFileSync("openssl", ["pkcs12", "-in", kit.p12, "-passin", `file:${kit.passphrase}`, "-noout"], { stdio: "pipe" });
    // A DICOM file to send, written by dcmtk itself.
    const dump = join(dir, "ct.dump");
    writeFileSync(dump, "(0010,0010) PN [KORTHWEB^MODALITY]\n(0010,0020) LO [KORTHWEB-MODALITY]\n(0008,0016) UI =SecondaryCaptureImageStorage\n(0008,0018) UI [2.25.1717001]\n(0020,000d) UI [2.25.1717002]\n(0020,000e) UI [2.25.1717003]\n");
    execFileSync("dump2dcm", ["--write-xfer-little", dump, join(dir, "ct.dcm")]);
    const storescu = (tls: string[], aet: string) =>
      spawnSync("storescu", [...tls, "-aet", aet, "-aec", "ORTHANC", "127.0.0.1", String(ports.dicom), join(dir, "ct.dcm")], { encoding: "utf8", env: { ...process.env, TCP_NODELAY: "1" } });
    const stored = storescu(["+tls", kit.key, kit.cert, "+cf", kit.serverCa], "CT-SCANNER-1");
    expect(stored.status, stored.stderr).toBe(0);
    const refused = storescu(["+tla", "+cf", kit.serverCa], "CT-SCANNER-1");
    expect(refused.status).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toContain("Association Request Failed");
    const unregistered = storescu(["+tls", kit.key, kit.cert, "+cf", kit.serverCa], "CT-SCANNER-9");
    expect(unregistered.status).not.toBe(0);
    expect(`${unregistered.stdout}${unregistered.stderr}`).toMatch(/Association Rejected|Calling AE Title Not Recognized/i);
    const rest = new RestClient(target);
    try {
      const { value } = await rest.json<{ ID: string; Type: string }[]>({ method: "POST", path: "/tools/lookup", body: "2.25.1717001" });
      const id = value?.find((item) => item.Type === "Instance")?.ID;
      expect(id).toBeDefined();
      await rest.send({ method: "DELETE", path: `/instances/${id}` });
    } finally {
      rest.close();
    }
    // The same kit through the smoke suite's flags (files, never key material on a command line).
    const explicit = localTarget(new TargetOptions({ "client-cert": kit.cert, "client-key": kit.key, "calling-aet": "CT-SCANNER-1" }, {}), localLayout(stackDir).target, {});
    const echo = await runSmoke(explicit, { only: ["tls-dicom", "dicom-echo"] });
    expect(checkIds(echo, "pass")).toEqual(["tls-dicom", "dicom-echo"]);
    // Bad input: exit code 2, nothing written.
    for (const args of [["--name", "CT_Scanner"], ["--name", "ct", "--approach", "gitops", "--tenant", "nobody"], ["--name", "ct", "--tenant", "bhc", "--approach", "local"]]) {
      expect(await runTasks("modality-cert", [modalityCertTask], [...args, "--out", join(dir, "bad-kit")]), args.join(" ")).toBe(2);
    }
    expect(await runTasks("modality-cert", [modalityCertTask], ["--name", "ct-scanner-1", "--approach", "local", "--out", out])).toBe(2);
    expect(existsSync(join(dir, "bad-kit"))).toBe(false);
  }, 120_000);

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

  it("revocation: re-issuing the modality CA refuses every certificate it signed; the new smoke client's works", async () => {
    const layout = localLayout(stackDir);
    const kit = kitFiles(join(dir, "kit"), "ct-scanner-1");
    const old = { cert: readFileSync(kit.cert, "utf8"), key: readFileSync(kit.key, "utf8") };
    for (const file of [layout.tls.modalityCa, layout.tls.modalityCaKey, layout.tls.smokeClientCert, layout.tls.smokeClientKey]) rmSync(file);
    lines.length = 0;
    // The output in the message: a failure here must say which step refused and why.
    expect(await runTasks("local-up", localUpTasks, flags), lines.join("\n")).toBe(0);
    expect(lines.join("\n")).toContain("modality CA and smoke client certificate: from this render");
    expect(lines.join("\n")).toMatch(/stopped haproxy.*its configuration changed/);
    const renewed = localTarget(new TargetOptions({}, {}), layout.target, {});
    const revoked = await handshake({ host: "127.0.0.1", port: ports.dicom, ca: renewed.ca, expectName: renewed.dicomName, minVersion: "TLSv1.2", maxVersion: "TLSv1.3", ...old });
    expect(refusalOf(revoked)).toBe("tlsv1 alert unknown ca");
    const report = await runSmoke(renewed, { only: ["tls-dicom", "dicom-echo"] });
    expect(checkIds(report, "pass")).toEqual(["tls-dicom", "dicom-echo"]);
    target = renewed;
  }, 300_000);

  it("make local-down stops everything, and smoke then says it cannot connect", async () => {
    const settings = loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir });
    expect(await runTasks("local-down", [downTask], flags), lines.join("\n")).toBe(0);
    expect(stackProcesses(settings)).toEqual({ postgresql: undefined, orthanc: undefined, proxy: undefined });
    for (const port of Object.values(ports)) expect(await isPortFree(port)).toBe(true);
    const report = await runSmoke(target);
    expect(report.passed).toBe(false);
    expect(causeOf(report, "tls-https")).toBe(`cannot connect to 127.0.0.1:${ports.https}: connection refused, nothing listens there (gateway or stack down, or wrong address/port)`);
    expect(causeOf(report, "dicom-echo")).toContain(`cannot connect to 127.0.0.1:${ports.dicom}: connection refused`);
    expect(causeOf(report, "rest-lookup")).toBe("needs dicom-store, rest-auth");
  }, 120_000);
});
