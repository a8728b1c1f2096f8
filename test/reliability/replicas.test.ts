// Two Orthanc processes on one PostgreSQL database behind the proxy, as two
// replicas of the chart's Deployment are: the same rendered configuration
// (PostgreSQL "Lock": false) and overlay, differing only in ports, haproxy
// balancing HTTPS and DICOM-TLS over both. Concurrent stores through both land
// once each, both see the same instances, and neither logs a lock error. The
// negative control turns "Lock" on (an overlay in this test only): then the
// second process refuses to start, so the test can tell the two apart.
import { mkdtempSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dicomEndpoint, runSmoke } from "../../smoke/checks.ts";
import { Ingest, tally } from "../../smoke/ingest.ts";
import { checkPresence, countBySopInstanceUid, lookupIds } from "../../smoke/presence.ts";
import { RestClient } from "../../smoke/rest.ts";
import { orthancPaths } from "../../proving-ground/local/layout.ts";
import { differingPaths, parseTemplate, type JsonObject } from "../../tasks/lib/orthanc-config.ts";
import { LocalOrthanc } from "../../proving-ground/local/orthanc.ts";
import { servedBy } from "../../proving-ground/local/proxy.ts";
import { runtimeWithOverlay } from "../../proving-ground/local/runtime.ts";
import { ScratchStack } from "../../proving-ground/local/scratch-stack.ts";
import { printFigures as figures } from "../../proving-ground/reliability/fault-stream.ts";
import { useCapturedLog } from "../helpers/log.ts";

const ports = { https: 25443, dicom: 25112, postgresql: 25432, orthancHttp: 25042, orthancDicom: 25242 };
const dir = mkdtempSync(join(tmpdir(), "korthweb-replicas-"));
const lockErrors = /database is locked|locked by another instance/i;


/** POST /tools/find straight to one Orthanc (plain HTTP on its own port): its view of the shared database. */
function findDirect(port: number, login: { username: string; password: string }, patientIdPrefix: string): Promise<string[]> {
  const body = JSON.stringify({ Level: "Instance", Query: { PatientID: `${patientIdPrefix}*` }, Expand: true });
  const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/tools/find", headers: { authorization: `Basic ${auth}`, "content-length": Buffer.byteLength(body) }, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`POST /tools/find on ${port} answered ${res.statusCode}`));
        const found = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { MainDicomTags?: { SOPInstanceUID?: string } }[];
        resolve(found.map((item) => item.MainDicomTags?.SOPInstanceUID ?? "(none)").sort());
      });
    });
    req.on("timeout", () => req.destroy(new Error(`POST /tools/find on ${port}: no answer`)));
    req.on("error", reject);
    req.end(body);
  });
}

describe("two Orthancs on one database behind the proxy (PostgreSQL Lock false)", () => {
  useCapturedLog();
  let stack: ScratchStack;

  beforeAll(async () => {
    stack = await ScratchStack.up({ dir, ports, orthancInstances: 2, callingAets: ["KORTHWEB-REPLICA"] });
  }, 180_000);

  afterAll(async () => {
    await stack?.down();
  }, 120_000);

  it("runs two Orthanc processes on their own ports, the same configuration otherwise, both behind the proxy", async () => {
    const [first, second] = stack.instances();
    const processes = stack.processes();
    expect(processes.orthanc).toBeDefined();
    expect(processes["orthanc-2"]).toBeDefined();
    expect(processes["orthanc-2"]).not.toBe(processes.orthanc);
    expect(second!.runtime.facts).toMatchObject({ httpPort: ports.orthancHttp + 1, dicomPort: ports.orthancDicom + 1 });
    // Only the ports differ between the two configurations Orthanc reads.
    const a = parseTemplate(readFileSync(first!.paths.config, "utf8"), first!.paths.config);
    const b = parseTemplate(readFileSync(second!.paths.config, "utf8"), second!.paths.config);
    expect(differingPaths(a, b)).toEqual(["DicomPort", "HttpPort"]);
    expect((a.PostgreSQL as JsonObject).Lock).toBe(false);
    const proxyConfig = readFileSync(stack.layout.proxy.config, "utf8");
    expect(proxyConfig).toContain(`server orthanc 127.0.0.1:${ports.orthancDicom}`);
    expect(proxyConfig).toContain(`server orthanc-2 127.0.0.1:${ports.orthancDicom + 1}`);
    expect(proxyConfig).toContain(`server orthanc-2 127.0.0.1:${ports.orthancHttp + 1}`);
  });

  it("concurrent stores through both: every instance present once, both see the same, studies not duplicated, no lock errors", async () => {
    const target = stack.target();
    const rest = new RestClient(target);
    const servedBefore = servedBy(readFileSync(stack.layout.proxy.log, "utf8"));
    try {
      // 8 associations; each 4 write into one shared patient, study and series, so both Orthancs race to create them.
      const ingest = new Ingest({
        endpoint: dicomEndpoint(target, "KORTHWEB-REPLICA"),
        calledAet: target.calledAet,
        senders: 8,
        batch: 15,
        pixelBytes: 4096,
        runId: `replicas-${Date.now()}`,
        sendersPerStudy: 4,
      });
      const started = performance.now();
      await ingest.run(1);
      const ms = performance.now() - started;
      const sent = tally(ingest.records);
      expect(sent).toMatchObject({ sent: 120, acknowledged: 120, silent: 0 });

      const presence = await checkPresence(rest, ingest.records.map((record) => record.instance));
      expect(presence).toMatchObject({ missing: [], duplicated: [], differing: [], found: 120 });
      // Counted by SOP Instance UID over REST through the proxy, and by each Orthanc asked directly: every instance exactly once.
      const expected = ingest.records.map((record) => record.instance.sopInstanceUid).sort();
      const counts = await countBySopInstanceUid(rest, ingest.plan.runId);
      expect([...counts.keys()].sort()).toEqual(expected);
      expect([...counts.values()].every((count) => count === 1)).toBe(true);
      const login = stack.runtime().facts.login;
      for (const instance of stack.instances()) {
        expect(await findDirect(instance.runtime.facts.httpPort, login, ingest.plan.runId), instance.name).toEqual(expected);
      }
      // Patients, studies and series created by both at once exist once each.
      const shared = new Set(ingest.records.map((record) => JSON.stringify([record.instance.tags.PatientID, record.instance.tags.StudyInstanceUID, record.instance.tags.SeriesInstanceUID])));
      expect(shared.size).toBe(2);
      for (const entry of shared) {
        const [patient, study, series] = JSON.parse(entry) as string[];
        expect(await lookupIds(rest, patient!, "Patient")).toHaveLength(1);
        expect(await lookupIds(rest, study!, "Study")).toHaveLength(1);
        expect(await lookupIds(rest, series!, "Series")).toHaveLength(1);
      }

      // Both servers behind the proxy took DICOM associations and HTTP requests.
      const served = servedBy(readFileSync(stack.layout.proxy.log, "utf8"));
      const since = (key: string) => (served.get(key) ?? 0) - (servedBefore.get(key) ?? 0);
      expect(since("orthanc_dicom/orthanc")).toBeGreaterThan(0);
      expect(since("orthanc_dicom/orthanc-2")).toBeGreaterThan(0);
      expect(since("orthanc_http/orthanc")).toBeGreaterThan(0);
      expect(since("orthanc_http/orthanc-2")).toBeGreaterThan(0);

      const logs = stack.instances().map((instance) => ({ name: instance.name, text: readFileSync(instance.paths.log, "utf8") }));
      for (const { name, text } of logs) expect(text.split("\n").filter((line) => lockErrors.test(line)), name).toEqual([]);

      figures("two-orthancs", {
        sent: sent.sent,
        acknowledged: sent.acknowledged,
        failed: sent.refused + sent.broken,
        found: presence.found,
        foundByEachOrthanc: expected.length,
        duplicates: presence.duplicated.length,
        seconds: (ms / 1000).toFixed(2),
        dicomAssociations: { orthanc: since("orthanc_dicom/orthanc"), "orthanc-2": since("orthanc_dicom/orthanc-2") },
        httpRequests: { orthanc: since("orthanc_http/orthanc"), "orthanc-2": since("orthanc_http/orthanc-2") },
        lockErrors: 0,
        errorLines: Object.fromEntries(logs.map(({ name, text }) => [name, text.split("\n").filter((line) => line.startsWith("E")).length])),
        serializationConflictLines: Object.fromEntries(logs.map(({ name, text }) => [name, text.split("\n").filter((line) => /could not serialize/i.test(line)).length])),
      });
    } finally {
      rest.close();
    }
  }, 120_000);

  it("the smoke suite passes through the balanced proxy (stored on one Orthanc, read back from either)", async () => {
    const report = await runSmoke(stack.target());
    // Every check passes but the one only gitops can run (another tenant's client certificate), which says why it skips.
    expect(report.checks.filter((check) => check.status !== "pass").map((check) => `${check.id} ${check.status}: ${check.cause}`)).toEqual([
      "dicom-client-foreign skip: no other deployment's certificate given (--foreign-client-secret; gitops: the other tenant's)",
    ]);
  }, 60_000);

  it("negative control: with PostgreSQL Lock true the second process refuses to start", async () => {
    const [first, second] = stack.instances();
    await Promise.all([stack.orthanc(1).stop(), stack.orthanc(2).stop()]);
    const locked = { PostgreSQL: { Lock: true } };
    const lockedFirst = new LocalOrthanc(stack.layout, orthancPaths(join(dir, "lock-1")), "Orthanc (Lock true)");
    const lockedSecond = new LocalOrthanc(stack.layout, orthancPaths(join(dir, "lock-2")), "Orthanc 2 (Lock true)");
    try {
      await lockedFirst.start(runtimeWithOverlay(first!.runtime, locked, "test overlay Lock true"));
      await expect(lockedSecond.start(runtimeWithOverlay(second!.runtime, locked, "test overlay Lock true"), 60_000)).rejects.toThrow(
        /Orthanc 2 \(Lock true\) exited during startup[\s\S]*The PostgreSQL database is locked by another instance of Orthanc/,
      );
      expect(lockedFirst.pid).toBeDefined();
      expect(lockedSecond.pid).toBeUndefined();
    } finally {
      await Promise.all([lockedSecond.stop(), lockedFirst.stop()]);
    }
  }, 120_000);
});
