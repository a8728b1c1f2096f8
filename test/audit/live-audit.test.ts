// The live audit: every check passes against the local stack (real haproxy,
// Orthanc, PostgreSQL in their own folder and ports), and each one fails
// against a target that is weak in the way it is meant to catch.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localTarget, TargetOptions } from "../../smoke/discover.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { auditLive, type LiveResult } from "../../proving-ground/audit/live-audit.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { localUpTasks } from "../../proving-ground/local/up.ts";
import { localLayout } from "../../proving-ground/local/layout.ts";
import { loadLocalSettings } from "../../proving-ground/local/settings.ts";
import { stackDown } from "../../proving-ground/local/stack.ts";
import { useCapturedLog } from "../helpers/log.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-audit-"));
chmodSync(dir, 0o755);
const stackDir = join(dir, "local");
const ports = { https: 19443, dicom: 19112, postgresql: 19432, orthancHttp: 19042, orthancDicom: 19242 };
const passed = (results: LiveResult[]) => Object.fromEntries(results.map((r) => [r.id, r.passed]));

const listen = async <T extends HttpServer | TlsServer>(server: T): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
};

describe("live audit", () => {
  const lines = useCapturedLog();
  const servers: (HttpServer | TlsServer)[] = [];
  let stack: SmokeTarget;
  let weak: SmokeTarget;

  beforeAll(async () => {
    // A deliberately weak terminator: TLS 1.0 and any cipher, HTTPS that answers 200 without credentials.
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=weak.test",
      "-addext", "subjectAltName=DNS:web.weak.test,DNS:dicom.weak.test",
      "-keyout", join(dir, "weak.key"), "-out", join(dir, "weak.crt"),
    ], { stdio: "ignore" });
    const tls = { key: readFileSync(join(dir, "weak.key")), cert: readFileSync(join(dir, "weak.crt")), minVersion: "TLSv1" as const, ciphers: "ALL:@SECLEVEL=0" };
    const https = createHttpsServer(tls, (_request, response) => response.end("open"));
    // Completes the handshake, then hangs up without a DICOM answer.
    const dicom = createTlsServer(tls, (socket) => void setTimeout(() => socket.destroy(), 300));
    servers.push(https, dicom);
    weak = {
      label: "weak test target",
      host: "127.0.0.1",
      httpsPort: await listen(https),
      dicomPort: await listen(dicom),
      webName: "web.weak.test",
      dicomName: "dicom.weak.test",
      ca: tls.cert.toString(),
      caSource: "test",
      credentials: undefined,
      credentialsSource: "none",
      calledAet: "ORTHANC",
      callingAet: "AUDIT",
      checksCalledAet: true,
    };

    writeFileSync(join(dir, "values.yaml"), `orthanc:\n  httpPort: ${ports.orthancHttp}\n  dicomPort: ${ports.orthancDicom}\n`);
    process.env.KORTHWEB_LOCAL_DIR = stackDir;
    process.env.KORTHWEB_LOCAL_VALUES = join(dir, "values.yaml");
    const flags = ["--https-port", String(ports.https), "--dicom-port", String(ports.dicom), "--pg-port", String(ports.postgresql)];
    const code = await runTasks("demo", localUpTasks.slice(0, -1), flags);
    if (code !== 0) throw new Error(`local stack failed to start (exit ${code}):\n${lines.join("\n")}`);
    stack = localTarget(new TargetOptions({}, {}), localLayout(stackDir).target, {});
  }, 900_000);

  afterAll(async () => {
    for (const server of servers) server.close();
    await stackDown(loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_DIR: stackDir }), { deleteData: true });
    rmSync(dir, { recursive: true, force: true });
    delete process.env.KORTHWEB_LOCAL_DIR;
    delete process.env.KORTHWEB_LOCAL_VALUES;
  }, 120_000);

  it("passes every check against the local stack", async () => {
    const results = await auditLive(stack);
    expect(results.filter((r) => !r.passed).map((r) => `${r.title}: ${r.detail}`)).toEqual([]);
    expect(results.length).toBe(15);
    // Mutual TLS on 11112, live: no certificate and another CA's are refused, an unregistered calling AE title rejected.
    const detail = Object.fromEntries(results.map((r) => [r.id, r.detail]));
    expect(detail["dicom-client-none"]).toMatch(/^refused: tlsv13 alert certificate required$/);
    expect(detail["dicom-client-other-ca"]).toMatch(/^refused: tlsv1 alert unknown ca$/);
    expect(detail["dicom-unregistered-aet"]).toMatch(/^rejected \(result 1, reason 3\)$/);
  });

  it("fails TLS version, cipher, REST and AE title checks against a weak target", async () => {
    const results = passed(await auditLive(weak));
    expect(results).toMatchObject({
      "tls-control-HTTPS": true,
      "tls-TLSv1-HTTPS": false,
      "tls-TLSv1.1-HTTPS": false,
      "tls-weak-HTTPS": false,
      "tls-control-DICOM-TLS": true,
      "tls-TLSv1-DICOM-TLS": false,
      "tls-TLSv1.1-DICOM-TLS": false,
      "tls-weak-DICOM-TLS": false,
      "rest-anonymous": false,
      "dicom-wrong-aet": false,
      // It asks for no client certificate, so it takes any (or none), and it registers no modalities.
      "dicom-client-none": false,
      "dicom-client-other-ca": false,
      "dicom-unregistered-aet": false,
    });
  });

  it("fails the clear-text checks when a port speaks its protocol in clear", async () => {
    const plain = createHttpServer((_request, response) => response.end("hello"));
    servers.push(plain);
    const direct = stack.direct!;
    const results = passed(await auditLive({ ...stack, httpsPort: await listen(plain), dicomPort: direct.dicomPort }));
    expect(results["https-plain"]).toBe(false);
    expect(results["dicom-plain"]).toBe(false);
  });
});
