// The TLS terminator: haproxy from Debian, standing in for the cluster's
// gateway (Traefik in the helm approach, Istio in manual and gitops). Like the
// gateway it terminates TLS with the chart's certificate on 443 (HTTPS → Orthanc
// HTTP) and 11112 (TLS → Orthanc DICOM), accepting TLS 1.2 and 1.3 only; with
// several Orthanc instances it balances both ports over them, as a Service does.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import type { LocalLayout } from "./layout.ts";
import { isRunning, killPid, logTail, requirePortFree, runningPid, startDetached, stopByPidFile } from "../../tasks/lib/processes.ts";
import { portHint, type LocalPorts } from "./settings.ts";

export const haproxyExecutable = "/usr/sbin/haproxy";
export const proxyName = "haproxy (stand-in for Traefik/Istio)";

// Forward-secret AEAD suites only (Mozilla "intermediate" minus the older ones).
const tls12Ciphers = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");
const tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

export interface OrthancPorts {
  httpPort: number;
  dicomPort: number;
}

export interface ProxyConfigInput {
  ports: Pick<LocalPorts, "https" | "dicom">;
  /** One Orthanc, or several on one database: then each port is balanced round robin over them. */
  orthanc: OrthancPorts | readonly OrthancPorts[];
  pemFile: string;
}

/** The server lines of a backend; with several, a connection refused by one is retried on another. */
function servers(orthancs: readonly OrthancPorts[], port: (o: OrthancPorts) => number): string {
  if (orthancs.length === 1) return `  server orthanc 127.0.0.1:${port(orthancs[0]!)}`;
  return [
    "  balance roundrobin",
    "  option redispatch 1",
    ...orthancs.map((o, i) => `  server orthanc${i === 0 ? "" : `-${i + 1}`} 127.0.0.1:${port(o)}`),
  ].join("\n");
}

export function haproxyConfig({ ports, orthanc, pemFile }: ProxyConfigInput): string {
  const orthancs: readonly OrthancPorts[] = Array.isArray(orthanc) ? orthanc : [orthanc as OrthancPorts];
  if (orthancs.length === 0) throw new TaskError("the proxy needs at least one Orthanc behind it");
  return `# written by korthweb (proving-ground/local/proxy.ts): the local stand-in for Traefik/Istio
global
  log stderr format raw local0 info
  user haproxy
  group haproxy
  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets
  ssl-default-bind-ciphers ${tls12Ciphers}
  ssl-default-bind-ciphersuites ${tls13Suites}

defaults
  log global
  timeout connect 5s
  # DICOM associations may idle between requests; HTTP keep-alive too.
  timeout client 5m
  timeout server 5m

frontend https
  mode http
  option httplog
  bind 127.0.0.1:${ports.https} ssl crt ${pemFile} alpn http/1.1
  http-request set-header X-Forwarded-Proto https
  option forwardfor
  default_backend orthanc_http

backend orthanc_http
  mode http
${servers(orthancs, (o) => o.httpPort)}

frontend dicom_tls
  mode tcp
  option tcplog
  bind 127.0.0.1:${ports.dicom} ssl crt ${pemFile}
  default_backend orthanc_dicom

backend orthanc_dicom
  mode tcp
${servers(orthancs, (o) => o.dicomPort)}
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("close", () => resolve(false));
  });
}

export class LocalProxy {
  readonly layout: LocalLayout;
  constructor(layout: LocalLayout) {
    this.layout = layout;
  }

  get pid(): number | undefined {
    return runningPid(this.layout.proxy.pid, haproxyExecutable);
  }

  /** The configuration and the certificate it serves. */
  private fingerprint(config: string): string {
    return createHash("sha256").update(config).update(readFileSync(this.layout.tls.proxyPem)).digest("hex");
  }

  /** True when it runs this exact configuration (the PEM included) and both ports accept connections. */
  async isCurrent(config: string, ports: Pick<LocalPorts, "https" | "dicom">): Promise<boolean> {
    if (this.pid === undefined || !existsSync(this.layout.proxy.fingerprint)) return false;
    if (readFileSync(this.layout.proxy.fingerprint, "utf8").trim() !== this.fingerprint(config)) return false;
    return (await canConnect(ports.https)) && (await canConnect(ports.dicom));
  }

  async start(config: string, ports: Pick<LocalPorts, "https" | "dicom">): Promise<number> {
    await requirePortFree(ports.https, `HTTPS of ${proxyName}`, portHint("https"));
    await requirePortFree(ports.dicom, `DICOM-TLS of ${proxyName}`, portHint("dicom"));
    mkdirSync(dirname(this.layout.proxy.config), { recursive: true });
    writeFileSync(this.layout.proxy.config, config);
    writeFileSync(this.layout.proxy.fingerprint, `${this.fingerprint(config)}\n`);
    const check = await run(haproxyExecutable, ["-c", "-q", "-f", this.layout.proxy.config], { allowFailure: true, silent: true });
    if (check.exitCode !== 0) throw new TaskError(`haproxy rejects ${this.layout.proxy.config}:\n    ${(check.stderr || check.stdout).trim()}`);
    const pid = startDetached({
      name: "haproxy",
      command: haproxyExecutable,
      args: ["-db", "-f", this.layout.proxy.config],
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      logFile: this.layout.proxy.log,
      pidFile: this.layout.proxy.pid,
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (!isRunning(pid, haproxyExecutable)) break;
      if ((await canConnect(ports.https)) && (await canConnect(ports.dicom))) return pid;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new TaskError(`${proxyName} did not start listening on ${ports.https} and ${ports.dicom}; the end of ${this.layout.proxy.log}:\n${logTail(this.layout.proxy.log)}`);
  }

  stop(): Promise<boolean> {
    return stopByPidFile(this.layout.proxy.pid, haproxyExecutable, "haproxy", 15_000);
  }

  /** SIGKILL (the gateway crashing): for fault tests. Returns the PID it killed. */
  async kill(): Promise<number | undefined> {
    const pid = this.pid;
    if (pid !== undefined) await killPid(pid, haproxyExecutable);
    return pid;
  }
}

/** From haproxy's log: how many HTTP requests / TCP sessions each "backend/server" took, e.g. "orthanc_dicom/orthanc-2" → 4. */
export function servedBy(logText: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of logText.matchAll(/ (orthanc_(?:http|dicom)\/[\w.-]+) /g)) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  return counts;
}
