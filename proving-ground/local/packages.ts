// The Debian packages the local stack runs, installed with apt-get when
// missing. Versions are Debian bookworm's (see docs/smoke.md); we take what
// the distribution ships rather than pinning, and log what is installed.
import { ensurePackages as ensureDebianPackages, type DebianPackage, type InstallOptions } from "../../tasks/lib/debian-packages.ts";

export type { DebianPackage };

export const localPackages: readonly DebianPackage[] = [
  { name: "orthanc", why: "Orthanc 1.10 (bookworm), runs the chart's configuration" },
  { name: "orthanc-postgresql", why: "the PostgreSQL index and storage plugins (4.0)" },
  { name: "postgresql", why: "PostgreSQL 15 server binaries (initdb, pg_ctl); the system service is not used" },
  { name: "haproxy", why: "the TLS terminator standing in for Traefik/Istio (2.6)" },
  { name: "dcmtk", why: "storescu, the reference DICOM client for `make bench` (3.6.7)" },
  { name: "openssl", why: "the private PostgreSQL's self-signed certificate" },
  { name: "gcc", why: "builds the small library that keeps Orthanc's sockets on 127.0.0.1" },
  { name: "libc6-dev", why: "headers for that library" },
];

/** Installs the local stack's missing packages (or the given ones) with apt-get; needs root. */
export const ensurePackages = (packages: readonly DebianPackage[] = localPackages, options: InstallOptions = {}) =>
  ensureDebianPackages(packages, { purpose: "the local stack", target: "local-packages", ...options });
