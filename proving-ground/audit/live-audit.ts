// `make audit`, live half: what an attacker on the network sees of a running
// target (the local stack, or any target the smoke suite can reach). Old TLS
// versions and weak ciphers refused on both ports, no REST route answers
// without credentials, the DICOM port refuses clients without a certificate
// from the modality CA, a wrong called AE title and an unregistered calling AE
// title are rejected, and neither port speaks its protocol in clear.
import { connect } from "node:net";
import dimse from "dcmjs-dimse";
import { associate } from "../../smoke/dicom-client.ts";
import { RestClient } from "../../smoke/rest.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { handshake, legacyCiphers, refusalOf } from "../../smoke/tls-probe.ts";
import { issueClient, newCa } from "../../tasks/lib/pki.ts";

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
  /** The client certificate the port needs before anything else can be probed (DICOM, mutual TLS). */
  client: { cert: string; key: string } | undefined;
}

const portsOf = (target: SmokeTarget): Port[] => [
  { label: "HTTPS", port: target.httpsPort, name: target.webName, sni: target.webName, client: undefined },
  { label: "DICOM-TLS", port: target.dicomPort, name: target.dicomName, sni: undefined, client: target.client ? { cert: target.client.cert, key: target.client.key } : undefined },
];

async function tlsChecks(target: SmokeTarget): Promise<LiveResult[]> {
  const results: LiveResult[] = [];
  for (const port of portsOf(target)) {
    const base = { host: target.host, port: port.port, servername: port.sni, ca: target.ca, expectName: port.name, ...(port.client ?? {}) };
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

/** Mutual TLS on the DICOM port: no client certificate, or one from another CA, gets no handshake. */
async function clientCertificateChecks(target: SmokeTarget): Promise<LiveResult[]> {
  const base = { host: target.host, port: target.dicomPort, ca: target.ca, expectName: target.dicomName, minVersion: "TLSv1.2" as const, maxVersion: "TLSv1.3" as const };
  const control = await handshake({ ...base, ...(target.client ? { cert: target.client.cert, key: target.client.key } : {}) });
  const controlDetail = control.completed && !control.error ? "" : ` (inconclusive: the control handshake with ${target.client ? target.client.source : "no client certificate given"} failed too)`;
  const none = await handshake(base);
  const foreign = await issueClient(await newCa("korthweb audit: some other CA", 2), { commonName: "korthweb-audit-foreign", days: 1 });
  const other = await handshake({ ...base, cert: foreign.cert, key: foreign.key });
  const result = (id: string, title: string, probe: typeof none): LiveResult => {
    const why = refusalOf(probe);
    return {
      id,
      title: `DICOM-TLS ${target.dicomPort}: ${title}`,
      passed: why !== undefined && controlDetail === "",
      detail: why ? `refused: ${why}${controlDetail}` : probe.tcpConnected ? `accepted (${probe.protocol})` : `no TCP connection: ${probe.error?.message}`,
    };
  };
  return [result("dicom-client-none", "a client without a certificate is refused", none), result("dicom-client-other-ca", "a certificate from another CA is refused", other)];
}

async function dicomChecks(target: SmokeTarget): Promise<LiveResult[]> {
  const tls = { ca: target.ca, expectName: target.dicomName, ...(target.client ? { clientCert: target.client } : {}) };
  const wrong = `${target.calledAet.slice(0, 10)}-WRONG`;
  const wrongAet = await associate({ host: target.host, port: target.dicomPort, callingAet: target.callingAet, tls }, wrong, [new requests.CEchoRequest()], { timeoutMs: 10_000 });
  const stranger = "KORTHWEB-NOBODY";
  const unregistered = await associate({ host: target.host, port: target.dicomPort, callingAet: stranger, tls }, target.calledAet, [new requests.CEchoRequest()], { timeoutMs: 10_000 });
  const plain = await associate({ host: target.host, port: target.dicomPort, callingAet: target.callingAet }, target.calledAet, [new requests.CEchoRequest()], { timeoutMs: 10_000 });
  return [
    {
      id: "dicom-wrong-aet",
      title: `DICOM: called AE title "${wrong}" is rejected`,
      passed: !wrongAet.accepted && Boolean(wrongAet.rejection),
      detail: wrongAet.rejection ? `rejected (result ${wrongAet.rejection.result}, reason ${wrongAet.rejection.reason})` : wrongAet.accepted ? "accepted" : "no answer (TLS failure?)",
    },
    {
      id: "dicom-unregistered-aet",
      title: `DICOM: calling AE title "${stranger}" (not registered) is rejected, even with a valid certificate`,
      passed: !unregistered.accepted && Boolean(unregistered.rejection),
      detail: unregistered.rejection
        ? `rejected (result ${unregistered.rejection.result}, reason ${unregistered.rejection.reason})`
        : unregistered.accepted
          ? "accepted: any calling AE title may echo (DicomAlwaysAllowEcho true, no registered modalities)"
          : "no answer (TLS failure?)",
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
  return [...(await tlsChecks(target)), ...(await clientCertificateChecks(target)), await restChecks(target), ...(await dicomChecks(target)), await plainHttpCheck(target)];
}
