// A deployment to check, as a modality and a user see it: one address with an
// HTTPS port and a DICOM-over-TLS port, the names its certificate must carry,
// the CA that signed it, a login, and the AE title to call.
import { join } from "node:path";
import { localStackDir } from "../tasks/lib/paths.ts";

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
  /** The CA's file when it came from one (dcmtk's storescu in `make bench` needs a path). */
  caFile?: string;
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
  /**
   * Set when the target is reached without its TLS ingress (no gateway can run: --via port-forward): REST
   * over plain HTTP and DICOM over plain TCP, straight to Orthanc; `why` says how and why, in the output.
   */
  plain?: { why: string };
  /** Another deployment's REST login (gitops: the other tenant's), which must get 401 here. */
  foreignCredentials?: Credentials & { source: string };
  /** Stops what discovery started to reach the target (a port-forward). */
  stop?: () => void;
}

/** A certificate and its private key (PEM), and where they came from (for messages). */
export interface KeyMaterial {
  cert: string;
  key: string;
  source: string;
}

/** The target as written in reports: everything but secrets. */
export function publicTarget(target: SmokeTarget): Record<string, unknown> {
  const { ca, credentials, client, modalityCa, foreignClient, foreignCredentials, stop: _stop, ...rest } = target;
  return {
    ...rest,
    ca: ca ? "(PEM)" : undefined,
    username: credentials?.username,
    clientCertificate: client?.source,
    modalityCa: modalityCa?.source,
    foreignClientCertificate: foreignClient?.source,
    foreignCredentials: foreignCredentials?.source,
  };
}

export const defaultCallingAet = "KORTHWEB-SMOKE";

/**
 * A target as a file on disk (a local stack writes one for `make smoke --target local`): the same
 * record, with the CA and the login as paths instead of their contents, so the file holds no secret.
 */
export type TargetFile = Pick<SmokeTarget, "label" | "host" | "httpsPort" | "dicomPort" | "webName" | "dicomName" | "calledAet"> & {
  caFile: string;
  credentialsFile: string;
  checksCalledAet: boolean;
  direct: NonNullable<SmokeTarget["direct"]>;
  /** Every Orthanc behind the TLS terminator (the first is `direct`); absent in files written before there could be several. */
  instances?: { name: string; httpPort: number; dicomPort: number }[];
  /** What the DICOM port asks of clients (absent in files written before mutual TLS). */
  clientAuth?: SmokeTarget["clientAuth"];
  /** The smoke client's certificate and key files: paths only, the file holds no key material. */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** The modality CA's certificate and key files (the local stack's own CA: `make modality-cert --approach local` signs with it). */
  modalityCaFile?: string;
  modalityCaKeyFile?: string;
  /** Whether Orthanc refuses calling AE titles it does not know (DicomAlwaysAllowEcho/Store false). */
  checksCallingAet?: boolean;
  /** A server-only TLS port in front of the same Orthanc, for `make bench`'s cost of mutual TLS (local stack). */
  tlsOnlyDicomPort?: number;
};

/** Where the local stack writes its target file, and where `make smoke` looks for it. */
export const targetFileName = "target.json";
export const localTargetFile = (env: NodeJS.ProcessEnv = process.env): string => join(localStackDir(env), targetFileName);
