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
}

/** The target as written in reports: everything but secrets. */
export function publicTarget(target: SmokeTarget): Record<string, unknown> {
  const { ca, credentials, ...rest } = target;
  return { ...rest, ca: ca ? "(PEM)" : undefined, username: credentials?.username };
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
};

/** Where the local stack writes its target file, and where `make smoke` looks for it. */
export const targetFileName = "target.json";
export const localTargetFile = (env: NodeJS.ProcessEnv = process.env): string => join(localStackDir(env), targetFileName);
