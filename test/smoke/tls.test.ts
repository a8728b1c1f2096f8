// The smoke suite's TLS checks against real TLS servers that get one thing
// wrong each: the checks must fail, naming the cause. In particular the
// TLS 1.0/1.1 check must really offer TLS 1.0 (OpenSSL 3 refuses to unless
// its security level is lowered), or it would pass against any server.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type TlsOptions } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSmoke, type SmokeReport } from "../../smoke/checks.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { handshake, legacyCiphers } from "../../smoke/tls-probe.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-tls-"));
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
const read = (file: string) => readFileSync(join(dir, file), "utf8");

/** A CA and a leaf signed by it with the given SANs. */
function makeLeaf(name: string, sans: string): void {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${sans}\n`);
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.crt`);
}

const servers: Server[] = [];
async function start(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}
const tlsServer = (options: TlsOptions) => start(createServer({ key: read("leaf.key"), cert: read("leaf.crt"), ...options }, (socket) => socket.on("error", () => undefined)));

function target(port: number, overrides: Partial<SmokeTarget> = {}): SmokeTarget {
  return {
    label: "test",
    host: "127.0.0.1",
    httpsPort: port,
    dicomPort: port,
    webName: "web.example.test",
    dicomName: "dicom.example.test",
    ca: read("ca.crt"),
    caSource: "file ca.crt",
    credentials: undefined,
    credentialsSource: "none",
    calledAet: "ORTHANC",
    callingAet: "TEST",
    checksCalledAet: true,
    ...overrides,
  };
}

const only = (report: SmokeReport, id: string) => report.checks.find((c) => c.id === id)!;

describe("TLS checks against misconfigured servers", () => {
  beforeAll(() => {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA", "-keyout", "ca.key", "-out", "ca.crt");
    makeLeaf("leaf", "DNS:web.example.test,DNS:dicom.example.test");
    makeLeaf("other", "DNS:other.example.test");
  });
  afterAll(() => {
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes a server with the right certificate and TLS 1.2+ only", async () => {
    const port = await tlsServer({ minVersion: "TLSv1.2" });
    const report = await runSmoke(target(port), { only: ["tls-dicom", "tls-dicom-legacy"] });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([["tls-dicom", "pass"], ["tls-dicom-legacy", "pass"]]);
    expect(only(report, "tls-dicom").detail).toMatch(/^TLSv1\.3 .*TLS 1\.2 accepted, no SNI/);
    expect(only(report, "tls-dicom-legacy").detail).toMatch(/TLS 1\.0: .*protocol version; TLS 1\.1: .*protocol version/);
  });

  it("really offers TLS 1.0: a server that accepts it fails the check", async () => {
    const port = await tlsServer({ minVersion: "TLSv1", ciphers: legacyCiphers });
    const report = await runSmoke(target(port), { only: ["tls-dicom-legacy"] });
    expect(only(report, "tls-dicom-legacy").status).toBe("fail");
    expect(only(report, "tls-dicom-legacy").cause).toMatch(/^the server accepts TLS 1\.0 \(.+\): set the gateway's minimum TLS version to 1\.2$/);
    // Without the lowered security level this client could not even try.
    const probe = await handshake({ host: "127.0.0.1", port, expectName: "x", minVersion: "TLSv1", maxVersion: "TLSv1" });
    expect(probe.error?.code).toBe("ERR_SSL_NO_PROTOCOLS_AVAILABLE");
  });

  it("says the server wants a client certificate", async () => {
    const port = await tlsServer({ minVersion: "TLSv1.2", requestCert: true, rejectUnauthorized: true, ca: read("ca.crt") });
    const report = await runSmoke(target(port), { only: ["tls-dicom"] });
    expect(only(report, "tls-dicom").cause).toBe("TLS handshake closed: the server wants a client certificate (mutual TLS on the gateway?)");
  });

  it("says the certificate does not name the host, or is not from the CA", async () => {
    const port = await start(createServer({ key: read("other.key"), cert: read("other.crt") }, (socket) => socket.on("error", () => undefined)));
    const report = await runSmoke(target(port), { only: ["tls-dicom"] });
    expect(only(report, "tls-dicom").cause).toBe("the certificate does not name dicom.example.test (SANs: DNS:other.example.test)");
    const leafPort = await tlsServer({});
    const wrongCa = await runSmoke(target(leafPort, { ca: read("leaf.crt"), caSource: "file leaf.crt" }), { only: ["tls-dicom"] });
    expect(only(wrongCa, "tls-dicom").cause).toMatch(/^certificate not signed by the CA from file leaf\.crt: wrong CA, or the gateway serves another certificate \(served: CN=leaf; issuer CN=Test CA\)$/);
  });

  it("says the port does not speak TLS", async () => {
    const port = await start(createHttpServer((_request, response) => response.end("plain")));
    const report = await runSmoke(target(port), { only: ["tls-https"] });
    expect(only(report, "tls-https").cause).toBe(`port ${port} does not speak TLS (plain HTTP or DICOM there? TLS not terminated by the gateway?)`);
  });
});
