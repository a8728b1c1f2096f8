// Turns what went wrong into the likely cause, in words a person can act on:
// "connection refused on 11112", "401: wrong credentials", "TLS handshake
// closed: the server wants a client certificate". Pure functions, so each
// wording is tested.
import type { PeerFacts } from "./tls-probe.ts";

export function connectionCause(error: NodeJS.ErrnoException, host: string, port: number): string {
  const code = error.code ?? "";
  const message = error.message ?? "";
  if (code === "ECONNREFUSED") return `cannot connect to ${host}:${port}: connection refused, nothing listens there (gateway or stack down, or wrong address/port)`;
  if (code === "ETIMEDOUT") return `no answer from ${host}:${port} (wrong address, a firewall, or a LoadBalancer without endpoints)`;
  if (code === "HANDSHAKE_TIMEOUT") return `TCP connected to ${host}:${port} but the TLS handshake got no answer: the port may not speak TLS`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve ${host}`;
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return `cannot connect to ${host}:${port}: ${host} is unreachable from here (routing, VPN)`;
  if (/CERTIFICATE_REQUIRED|certificate required/i.test(`${code} ${message}`)) {
    return "TLS handshake closed: the server wants a client certificate (mutual TLS on the gateway?)";
  }
  if (/WRONG_VERSION_NUMBER|wrong version number|packet length too long|http request/i.test(`${code} ${message}`)) {
    return `port ${port} does not speak TLS (plain HTTP or DICOM there? TLS not terminated by the gateway?)`;
  }
  if (/PROTOCOL_VERSION|unsupported protocol/i.test(`${code} ${message}`)) return `the server refuses the TLS versions offered (${message.split("\n")[0]})`;
  if (/HANDSHAKE_FAILURE|handshake failure/i.test(`${code} ${message}`)) {
    return "the server aborted the TLS handshake (no cipher in common, or it wants a client certificate)";
  }
  if (code === "ECONNRESET") return `connection reset by ${host}:${port} during the handshake (the server dropped it: client certificate required, or not TLS)`;
  return `${code || "error"}: ${message.split("\n")[0]}`;
}

const untrustedCodes = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
]);

export function chainCause(chainError: string, caSource: string, peer: PeerFacts | undefined): string {
  const served = peer ? ` (served: ${peer.subject}; issuer ${peer.issuer})` : "";
  if (peer && /TRAEFIK DEFAULT CERT/i.test(peer.subject)) {
    return `Traefik serves its default certificate: clients without SNI get tlsStore.default.defaultCertificate, which is not set${served}`;
  }
  if (untrustedCodes.has(chainError)) return `certificate not signed by the CA from ${caSource}: wrong CA, or the gateway serves another certificate${served}`;
  if (chainError === "CERT_HAS_EXPIRED") return `the certificate has expired (valid to ${peer?.validTo ?? "?"})`;
  if (chainError === "CERT_NOT_YET_VALID") return "the certificate is not valid yet (clock skew?)";
  return `certificate rejected: ${chainError}${served}`;
}

export function nameCause(expectName: string, peer: PeerFacts | undefined): string {
  const sans = peer?.sans.length ? peer.sans.join(", ") : "none";
  return `the certificate does not name ${expectName} (SANs: ${sans})`;
}

export function httpCause(status: number, withCredentials: boolean, webName: string): string {
  if (status === 401) return withCredentials ? "401: wrong credentials" : "401: authentication required";
  if (status === 403) return "403: refused (Orthanc RemoteAccessAllowed off, or an authorization policy at the gateway)";
  if (status === 404) return `404: no route for Host ${webName} at the gateway (IngressRoute / VirtualService host?)`;
  if (status === 502 || status === 503 || status === 504) return `${status}: the gateway answers but Orthanc does not (pod not ready, Service or port mismatch)`;
  if (status === 200 && !withCredentials) return "200 without credentials: authentication is off (AuthenticationEnabled false?)";
  return `unexpected HTTP ${status}`;
}

// A-ASSOCIATE-RJ reasons when the source is the service user (PS3.8 9.3.4).
const rejectReasons: Record<number, string> = {
  1: "no reason given",
  2: "application context not supported",
  3: "calling AE title not recognized",
  7: "called AE title not recognized",
};

export interface Rejection {
  result: number;
  source: number;
  reason: number;
}

export function rejectionCause(rejection: Rejection, calledAet: string, callingAet: string): string {
  if (rejection.source === 1 && rejection.reason === 7) return `association rejected: called AE title "${calledAet}" not recognized (the target checks the called AE title)`;
  if (rejection.source === 1 && rejection.reason === 3) {
    return `association rejected: calling AE title "${callingAet}" not accepted (DicomAlwaysAllowEcho/Store off, no DicomModalities entry?)`;
  }
  const reason = rejection.source === 1 ? rejectReasons[rejection.reason] ?? `reason ${rejection.reason}` : `source ${rejection.source}, reason ${rejection.reason}`;
  return `association rejected (${reason}${rejection.result === 2 ? ", transient: try again" : ""})`;
}

export function closedWithoutAnswerCause(port: number): string {
  return `connection on ${port} closed before any DICOM answer: TLS refused (client certificate wanted? wrong CA?) or no DICOM server behind the TLS port`;
}

/** C-STORE / C-ECHO status words (PS3.4 annex B and C). */
export function dimseStatusCause(status: number): string {
  const hex = `0x${status.toString(16).toUpperCase().padStart(4, "0")}`;
  if ((status & 0xff00) === 0xa700) return `${hex} out of resources: Orthanc could not store it (database or storage full or unreachable; see its log)`;
  if (status === 0x0124) return `${hex} refused, not authorized: the calling AE title may not store here`;
  if (status === 0x0122) return `${hex} SOP class not supported`;
  if ((status & 0xff00) === 0xa900) return `${hex} data set does not match the SOP class`;
  if ((status & 0xf000) === 0xc000 || status === 0x0110) return `${hex} cannot understand / processing failure: Orthanc failed to store it (see its log)`;
  if ((status & 0xf000) === 0xb000) return `${hex} warning (stored with coercion or elements discarded)`;
  return `${hex} not success`;
}
