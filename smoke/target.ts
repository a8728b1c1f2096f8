// A deployment to check, as a modality and a user see it: one address with an
// HTTPS port and a DICOM-over-TLS port, the names its certificate must carry,
// the CA that signed it, a login, and the AE title to call.

export interface Credentials {
  username: string;
  password: string;
}

export interface SmokeTarget {
  /** For the table header and the report: "local stack (haproxy …)", "kube context x, release orthanc". */
  label: string;
  /** Address to connect to (an IP: DICOM clients send no SNI when they connect by IP). */
  host: string;
  httpsPort: number;
  dicomPort: number;
  /** SNI and Host header for HTTPS; must be a SAN of the certificate on the HTTPS port. */
  webName: string;
  /** Must be a SAN of the certificate on the DICOM port (checked although no SNI is sent). */
  dicomName: string;
  /** PEM of the deployment's CA; undefined means the system's trusted CAs. */
  ca: string | undefined;
  /** Where the CA came from, for causes: "file .work/local/tls/ca.crt". */
  caSource: string;
  credentials: Credentials | undefined;
  credentialsSource: string;
  calledAet: string;
  callingAet: string;
  /** Whether the target rejects a wrong called AE title; undefined when unknown (the check is skipped). */
  checksCalledAet: boolean | undefined;
  /** Orthanc without the TLS terminator, when reachable (local stack): the bench's direct path. */
  direct?: { host: string; httpPort: number; dicomPort: number };
  /** The client certificate presented on the DICOM port (mutual TLS): the smoke client's, a registered modality. */
  client?: KeyMaterial;
  /** What the DICOM port asks of clients; undefined when unknown (the negative checks are then skipped, saying so). */
  clientAuth?: "required" | "optional" | "none";
  /** The modality CA with its key, when smoke may sign with it: the expired-certificate check needs a certificate from the right CA. */
  modalityCa?: KeyMaterial;
  /** A certificate of another deployment (gitops: the other tenant's smoke client), which must be refused. */
  foreignClient?: KeyMaterial;
  /** Whether Orthanc refuses calling AE titles it does not know (registered modalities); undefined when unknown. */
  checksCallingAet?: boolean;
}

/** A certificate and its private key (PEM), and where they came from (for messages). */
export interface KeyMaterial {
  cert: string;
  key: string;
  source: string;
}

/** The target as written in reports: everything but secrets. */
export function publicTarget(target: SmokeTarget): Record<string, unknown> {
  const { ca, credentials, client, modalityCa, foreignClient, ...rest } = target;
  return {
    ...rest,
    ca: ca ? "(PEM)" : undefined,
    username: credentials?.username,
    clientCertificate: client?.source,
    modalityCa: modalityCa?.source,
    foreignClientCertificate: foreignClient?.source,
  };
}

export const defaultCallingAet = "KORTHWEB-SMOKE";
