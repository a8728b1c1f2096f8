// One TLS handshake, observed: whether TCP connected, what the server
// negotiated and presented, whether the chain verifies against the given CA,
// whether the certificate names the expected host, and — for TLS 1.3, where a
// server that wants a client certificate says so only after the handshake —
// whether it closed on us right after (which is also how a server that refuses
// the client certificate we presented answers).
import { checkServerIdentity, connect, type PeerCertificate, type SecureVersion } from "node:tls";

export interface HandshakeOptions {
  host: string;
  port: number;
  /** SNI to send; undefined sends none (as DICOM modalities do). */
  servername?: string;
  ca?: string;
  /** The name the certificate must carry (checked whatever the SNI). */
  expectName: string;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  ciphers?: string;
  /** A client certificate and its key (PEM) to present: mutual TLS. */
  cert?: string;
  key?: string;
  timeoutMs?: number;
}

export interface PeerFacts {
  subject: string;
  issuer: string;
  sans: string[];
  validTo: string;
}

export interface HandshakeResult {
  tcpConnected: boolean;
  /** The handshake completed (whatever the verification says). */
  completed: boolean;
  protocol?: string;
  cipher?: string;
  /** Chain verification against the CA: undefined when it passed. */
  chainError?: string;
  /** SAN check against expectName: undefined when it passed. */
  nameError?: string;
  peer?: PeerFacts;
  /** A socket error, before or right after the handshake. */
  error?: NodeJS.ErrnoException;
  ms: number;
}

const sanList = (cert: PeerCertificate) => (cert.subjectaltname ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const nameOf = (entity: Record<string, string | string[] | undefined> | undefined) =>
  entity ? Object.entries(entity).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : v}`).join(", ") : "";

export function handshake(options: HandshakeOptions): Promise<HandshakeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const result: HandshakeResult = { tcpConnected: false, completed: false, ms: 0 };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      result.ms = performance.now() - started;
      socket.destroy();
      resolve(result);
    };
    const socket = connect({
      host: options.host,
      port: options.port,
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      minVersion: options.minVersion,
      maxVersion: options.maxVersion,
      ...(options.ciphers ? { ciphers: options.ciphers } : {}),
      ...(options.cert && options.key ? { cert: options.cert, key: options.key } : {}),
      // We look at the verdicts ourselves, so a bad certificate is reported, not just refused.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => {
      const error = new Error(`no TLS handshake within ${options.timeoutMs ?? 5_000} ms`) as NodeJS.ErrnoException;
      error.code = result.tcpConnected ? "HANDSHAKE_TIMEOUT" : "ETIMEDOUT";
      result.error = error;
      finish();
    }, options.timeoutMs ?? 5_000);
    socket.once("connect", () => {
      result.tcpConnected = true;
    });
    socket.once("secureConnect", () => {
      result.completed = true;
      result.protocol = socket.getProtocol() ?? undefined;
      result.cipher = socket.getCipher()?.name;
      const cert = socket.getPeerCertificate();
      if (cert && Object.keys(cert).length > 0) {
        result.peer = { subject: nameOf(cert.subject as never), issuer: nameOf(cert.issuer as never), sans: sanList(cert), validTo: cert.valid_to };
        result.nameError = checkServerIdentity(options.expectName, cert)?.message;
      } else {
        result.nameError = "the server presented no certificate";
      }
      if (!socket.authorized) result.chainError = String(socket.authorizationError ?? "not authorized");
      // TLS 1.3: a server that requires a client certificate sends its alert after our Finished.
      const settle = Math.min(300, Math.max(30, 3 * (performance.now() - started)));
      setTimeout(finish, settle);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      result.error = error;
      finish();
    });
    socket.once("close", finish);
  });
}

/** OpenSSL 3 will not offer TLS 1.0/1.1 at its default security level: lower it for the probe, or the check proves nothing. */
export const legacyCiphers = "DEFAULT:@SECLEVEL=0";

/**
 * Why a handshake counts as refused, in words ("tlsv13 alert certificate required"): a TLS alert or
 * reset during it or right after it (TLS 1.3 servers refuse a client certificate after their
 * Finished). Undefined when it was not refused, or when TCP did not even connect.
 */
export function refusalOf(result: HandshakeResult): string | undefined {
  if (!result.tcpConnected) return undefined;
  if (result.completed && !result.error) return undefined;
  const code = result.error?.code ?? "";
  return (code || result.error?.message || "closed").replace(/^ERR_SSL_/, "").toLowerCase().replaceAll("_", " ");
}
