// `make audit`, live half: what an attacker on the network sees of a running
// target (the local stack, or any target the smoke suite can reach). Old TLS
// versions and weak ciphers refused on both ports, no REST route answers
// without credentials, a wrong called AE title is rejected, and neither port
// speaks its protocol in clear.
import { connect } from "node:net";
import dimse from "dcmjs-dimse";
import { associate } from "../../smoke/dicom-client.ts";
import { RestClient } from "../../smoke/rest.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { handshake, legacyCiphers } from "../../smoke/tls-probe.ts";

const { requests } = dimse;

export interface LiveResult {
  id: string;
  title: string;
  passed: boolean;
  detail: string;
}

/** TLS 1.2 cipher suites that must be refused: no forward secrecy (static RSA) or CBC with SHA-1/SHA-2 MACs. */
export const weakCiphers = ["AES128-SHA", "AES256-SHA256", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384"];
/** A strong suite the target should accept: the control that proves the probe can connect at all. */
export const strongCipher = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256";

/** REST routes (method, path) that must all answer 401 without credentials. */
export const anonymousRoutes: readonly [string, string][] = [
  ["GET", "/"],
  ["GET", "/system"],
  ["GET", "/patients"],
  ["GET", "/studies"],
  ["GET", "/instances"],
  ["GET", "/changes?last"],
  ["GET", "/tools/now"],
  ["GET", "/tools/metrics-prometheus"],
  ["GET", "/app/explorer.html"],
  ["POST", "/tools/lookup"],
  ["POST", "/instances"],
  ["DELETE", "/patients/00000000-00000000-00000000-00000000-00000000"],
];

interface Port {
  label: string;
  port: number;
  name: string;
  sni: string | undefined;
}

const portsOf = (target: SmokeTarget): Port[] => [
  { label: "HTTPS", port: target.httpsPort, name: target.webName, sni: target.webName },
  { label: "DICOM-TLS", port: target.dicomPort, name: target.dicomName, sni: undefined },
];

async function tlsChecks(target: SmokeTarget): Promise<LiveResult[]> {
  const results: LiveResult[] = [];
  for (const port of portsOf(target)) {
    const base = { host: target.host, port: port.port, servername: port.sni, ca: target.ca, expectName: port.name };
    const control = await handshake({ ...base, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: strongCipher });
    results.push({
      id: `tls-control-${port.label}`,
      title: `${port.label} ${port.port}: TLS 1.2 with a strong suite is accepted (control)`,
      passed: control.completed,
      detail: control.completed ? `${control.protocol} ${control.cipher}` : `not accepted: ${control.error?.message ?? "handshake incomplete"}`,
    });
    for (const version of ["TLSv1", "TLSv1.1"] as const) {
      const probe = await handshake({ ...base, minVersion: version, maxVersion: version, ciphers: legacyCiphers });
      results.push({
        id: `tls-${version}-${port.label}`,
        title: `${port.label} ${port.port}: ${version === "TLSv1" ? "TLS 1.0" : "TLS 1.1"} refused`,
        passed: probe.tcpConnected && !probe.completed,
        detail: probe.completed ? `accepted: ${probe.protocol} ${probe.cipher}` : probe.tcpConnected ? `refused (${probe.error?.code ?? "closed"})` : `no TCP connection: ${probe.error?.message}`,
      });
    }
    const accepted: string[] = [];
    for (const cipher of weakCiphers) {
      const probe = await handshake({ ...base, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: `${cipher}:@SECLEVEL=0` });
      if (probe.completed) accepted.push(`${cipher} (${probe.cipher})`);
    }
    results.push({
      id: `tls-weak-${port.label}`,
      title: `${port.label} ${port.port}: weak TLS 1.2 suites refused (${weakCiphers.length} tried)`,
      passed: control.completed && accepted.length === 0,
      detail: accepted.length ? `accepted: ${accepted.join(", ")}` : control.completed ? "all refused" : "inconclusive: the control handshake failed",
    });
  }
  return results;
}

async function restChecks(target: SmokeTarget): Promise<LiveResult> {
  const anonymous = new RestClient(target, undefined);
  const answered: string[] = [];
  for (const [method, path] of anonymousRoutes) {
    try {
      const response = await anonymous.send({ method, path, authenticate: false, ...(method === "POST" ? { body: "x" } : {}) });
      if (response.status !== 401) answered.push(`${method} ${path} → ${response.status}`);
    } catch (error) {
      answered.push(`${method} ${path} → ${(error as Error).message}`);
    }
  }
  return {
    id: "rest-anonymous",
    title: `REST without credentials: ${anonymousRoutes.length} routes answer 401`,
    passed: answered.length === 0,
    detail: answered.length ? answered.join("; ") : "all 401",
  };
}

async function dicomChecks(target: SmokeTarget): Promise<LiveResult[]> {
  const tls = { ca: target.ca, expectName: target.dicomName };
  const wrong = `${target.calledAet.slice(0, 10)}-WRONG`;
  const wrongAet = await associate({ host: target.host, port: target.dicomPort, callingAet: target.callingAet, tls }, wrong, [new requests.CEchoRequest()], { timeoutMs: 10_000 });
  const plain = await associate({ host: target.host, port: target.dicomPort, callingAet: target.callingAet }, target.calledAet, [new requests.CEchoRequest()], { timeoutMs: 10_000 });
  return [
    {
      id: "dicom-wrong-aet",
      title: `DICOM: called AE title "${wrong}" is rejected`,
      passed: !wrongAet.accepted && Boolean(wrongAet.rejection),
      detail: wrongAet.rejection ? `rejected (result ${wrongAet.rejection.result}, reason ${wrongAet.rejection.reason})` : wrongAet.accepted ? "accepted" : "no answer (TLS failure?)",
    },
    {
      id: "dicom-plain",
      title: `DICOM in clear on ${target.dicomPort} is refused`,
      passed: !plain.accepted && !plain.rejection && plain.responses.length === 0,
      detail: plain.accepted ? "association accepted without TLS" : plain.rejection ? "answered in clear (A-ASSOCIATE-RJ)" : "no DICOM answer",
    },
  ];
}

/** Sends an HTTP request in clear to the HTTPS port; resolves with what came back (first bytes). */
function plainHttp(host: string, port: number, hostHeader: string): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).subarray(0, 64).toString("latin1"));
    };
    const timer = setTimeout(done, 3_000);
    socket.on("connect", () => socket.write(`GET /system HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", done);
    socket.on("close", done);
  });
}

async function plainHttpCheck(target: SmokeTarget): Promise<LiveResult> {
  const answer = await plainHttp(target.host, target.httpsPort, target.webName);
  const spoke = answer.startsWith("HTTP/");
  return {
    id: "https-plain",
    title: `HTTP in clear on ${target.httpsPort} gets no HTTP answer`,
    passed: !spoke,
    detail: spoke ? `answered: ${answer.split("\r\n")[0]}` : answer ? "non-HTTP bytes (TLS alert), then closed" : "closed",
  };
}

export async function auditLive(target: SmokeTarget): Promise<LiveResult[]> {
  return [...(await tlsChecks(target)), await restChecks(target), ...(await dicomChecks(target)), await plainHttpCheck(target)];
}
