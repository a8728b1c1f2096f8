// Where the local stack keeps each thing, under one folder (.work/local by
// default). Deleting that folder (make local-down DELETE_DATA=1) forgets the stack.
import { chmodSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { targetFileName } from "../../smoke/target.ts";


export interface LocalLayout {
  root: string;
  /** The chart's rendered manifests, as helm printed them (0600: they hold a private key). */
  manifests: string;
  /**
   * Certificates from the chart: ca.crt, tls.crt, tls.key, and proxy.pem (leaf + key for haproxy);
   * the modality CA (its key signs `make modality-cert --approach local`) and the smoke client's certificate.
   */
  tls: {
    dir: string;
    ca: string;
    cert: string;
    key: string;
    proxyPem: string;
    modalityCa: string;
    modalityCaKey: string;
    smokeClientCert: string;
    smokeClientKey: string;
  };
  /** Generated values for the Secrets the Deployment references, one JSON file per Secret (0600). */
  secretsDir: string;
  /** The first RegisteredUsers entry after substitution: what a user logs in with (0600). */
  credentials: string;
  /** Describes the running stack for `make smoke` (no secrets inside). */
  target: string;
  postgresql: { dir: string; data: string; socketDir: string; log: string; conf: string };
  /** Orthanc (instance 1); further instances live in orthanc-N/ (see orthancInstancePaths). */
  orthanc: OrthancPaths;
  proxy: { config: string; log: string; pid: string; fingerprint: string };
  /** The LD_PRELOAD library that keeps Orthanc's listening sockets on 127.0.0.1. */
  loopbackLibrary: string;
}

/** The files of one Orthanc process. */
export interface OrthancPaths {
  dir: string;
  /** The effective configuration: the rendered orthanc.json plus the local overlay, ${VAR} references kept. */
  config: string;
  /** The Deployment's container env as rendered (references, not values); written for instance 1, the same for all. */
  envSpec: string;
  /** The local overlay that was applied, for reading and for tests. */
  overlay: string;
  storage: string;
  index: string;
  log: string;
  pid: string;
  /** Hash of what Orthanc was started with, to tell when a restart is needed. */
  fingerprint: string;
}

export function orthancPaths(dir: string): OrthancPaths {
  return {
    dir,
    config: join(dir, "orthanc.json"),
    envSpec: join(dir, "env.json"),
    overlay: join(dir, "overlay.json"),
    storage: join(dir, "storage"),
    index: join(dir, "index"),
    log: join(dir, "orthanc.log"),
    pid: join(dir, "orthanc.pid"),
    fingerprint: join(dir, "fingerprint"),
  };
}

/** Instance 1 is the stack's Orthanc (orthanc/); instance N ≥ 2 lives in orthanc-N/. */
export function orthancInstancePaths(layout: LocalLayout, instance: number): OrthancPaths {
  return instance === 1 ? layout.orthanc : orthancPaths(join(layout.root, `orthanc-${instance}`));
}

/** The numbers of the instances ≥ 2 that have a folder (running or not), ascending. */
export function extraOrthancInstances(layout: LocalLayout): number[] {
  if (!existsSync(layout.root)) return [];
  return readdirSync(layout.root)
    .map((entry) => /^orthanc-(\d+)$/.exec(entry)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .filter((n) => n >= 2)
    .sort((a, b) => a - b);
}

export function localLayout(root: string): LocalLayout {
  const tlsDir = join(root, "tls");
  const pg = join(root, "postgresql");
  const orthanc = join(root, "orthanc");
  return {
    root,
    manifests: join(root, "render", "manifests.yaml"),
    tls: {
      dir: tlsDir,
      ca: join(tlsDir, "ca.crt"),
      cert: join(tlsDir, "tls.crt"),
      key: join(tlsDir, "tls.key"),
      proxyPem: join(tlsDir, "proxy.pem"),
      modalityCa: join(tlsDir, "modality-ca.crt"),
      modalityCaKey: join(tlsDir, "modality-ca.key"),
      smokeClientCert: join(tlsDir, "smoke-client.crt"),
      smokeClientKey: join(tlsDir, "smoke-client.key"),
    },
    secretsDir: join(root, "secrets"),
    credentials: join(root, "credentials.json"),
    target: join(root, targetFileName),
    postgresql: { dir: pg, data: join(pg, "data"), socketDir: join(pg, "run"), log: join(pg, "postgresql.log"), conf: join(pg, "data", "korthweb.conf") },
    orthanc: orthancPaths(orthanc),
    proxy: {
      config: join(root, "proxy", "haproxy.cfg"),
      log: join(root, "proxy", "haproxy.log"),
      pid: join(root, "proxy", "haproxy.pid"),
      fingerprint: join(root, "proxy", "fingerprint"),
    },
    loopbackLibrary: join(root, "lib", "loopback-bind.so"),
  };
}

/**
 * Creates the stack's folder, readable and traversable by the accounts the
 * servers run as (postgres, orthanc); the private parts inside are 0700.
 */
export function ensureLocalRoot(layout: LocalLayout): void {
  mkdirSync(layout.root, { recursive: true, mode: 0o755 });
  chmodSync(layout.root, 0o755);
}

