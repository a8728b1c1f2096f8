// The TLS terminator: haproxy from Debian, standing in for the cluster's
// gateway (Traefik in the helm approach, Istio in manual and gitops). Like the
// gateway it terminates TLS with the chart's certificate on 443 (HTTPS → Orthanc
// HTTP) and 11112 (TLS → Orthanc DICOM), with the TLS policy and the client
// certificate requirement the chart renders for its routes (ingress-policy.ts):
// on 11112 only clients with a certificate from the modality CA get through.
// With several Orthanc instances it balances both ports over them, as a Service does.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import type { IngressPolicy, PortPolicy } from "./ingress-policy.ts";
import type { LocalLayout } from "./layout.ts";
import { isRunning, killPid, logTail, requirePortFree, runningPid, startDetached, stopByPidFile } from "../../tasks/lib/processes.ts";
import { portHint, type LocalPorts } from "./settings.ts";

export const haproxyExecutable = "/usr/sbin/haproxy";
export const proxyName = "haproxy (stand-in for Traefik/Istio)";

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
  /** What each port enforces, from the chart's TLSOptions. */
  policy: IngressPolicy;
  /** The modality CA's certificate: the only issuer accepted for client certificates on the DICOM port. */
  modalityCaFile: string | undefined;
}

/** The TLS part of a bind line: version floor, suites, and the client certificate check. */
export function bindOptions(policy: PortPolicy, pemFile: string, modalityCaFile: string | undefined, where: string): string {
  const parts = [`ssl crt ${pemFile}`, `ssl-min-ver ${policy.minVersion === "TLSv1.3" ? "TLSv1.3" : "TLSv1.2"}`, `ciphersuites ${tls13Suites}`];
  if (policy.ciphers.length) parts.push(`ciphers ${policy.ciphers.join(":")}`);
  if (policy.clientAuth !== "none") {
    if (!modalityCaFile) throw new TaskError(`${where} requires client certificates, but the local stack has no modality CA`, { hint: "the chart renders Secret <release>-modality-ca in generate mode" });
    parts.push(`ca-file ${modalityCaFile}`, `verify ${policy.clientAuth === "required" ? "required" : "optional"}`);
  }
  return parts.join(" ");
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

export function haproxyConfig({ ports, orthanc, pemFile, policy, modalityCaFile }: ProxyConfigInput): string {
  const orthancs: readonly OrthancPorts[] = Array.isArray(orthanc) ? orthanc : [orthanc as OrthancPorts];
  if (orthancs.length === 0) throw new TaskError("the proxy needs at least one Orthanc behind it");
  return `# written by korthweb (proving-ground/local/proxy.ts): the local stand-in for Traefik/Istio
global
  log stderr format raw local0 info
  user haproxy
  group haproxy
  ssl-default-bind-options no-tls-tickets

defaults
  log global
  timeout connect 5s
  # DICOM associations may idle between requests; HTTP keep-alive too.
  timeout client 5m
  timeout server 5m

frontend https
  mode http
  option httplog
  bind 127.0.0.1:${ports.https} ${bindOptions(policy.web, pemFile, modalityCaFile, "the web route")} alpn http/1.1
  http-request set-header X-Forwarded-Proto https
  option forwardfor
  default_backend orthanc_http

backend orthanc_http
  mode http
${servers(orthancs, (o) => o.httpPort)}

frontend dicom_tls
  mode tcp
  option tcplog
  bind 127.0.0.1:${ports.dicom} ${bindOptions(policy.dicom, pemFile, modalityCaFile, "the DICOM route")}
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

  /** The configuration, the certificate it serves and the modality CA it trusts. */
  private fingerprint(config: string): string {
    const hash = createHash("sha256").update(config).update(readFileSync(this.layout.tls.proxyPem));
    if (existsSync(this.layout.tls.modalityCa)) hash.update(readFileSync(this.layout.tls.modalityCa));
    return hash.digest("hex");
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

/**
 * For `make bench` only: a second haproxy in front of the same Orthanc(s) with
 * the same certificate and TLS policy on the DICOM port, but without asking for
 * client certificates, on a free loopback port, stopped after the run — so the
 * cost of mutual TLS is measured against the same terminator. Never part of the
 * running stack.
 */
export async function startTlsOnlyProxy(layout: LocalLayout, orthancs: readonly OrthancPorts[], policy: PortPolicy): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freeLoopbackPort();
  const dir = join(layout.root, "bench-proxy");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "haproxy.cfg");
  writeFileSync(
    config,
    `# written by korthweb (tasks/local/proxy.ts) for make bench: server-only TLS, to measure what mutual TLS costs
global
  ssl-default-bind-options no-tls-tickets
defaults
  mode tcp
  timeout connect 5s
  timeout client 5m
  timeout server 5m
frontend dicom_tls_only
  bind 127.0.0.1:${port} ${bindOptions({ ...policy, clientAuth: "none" }, layout.tls.proxyPem, undefined, "the comparison port")}
  default_backend orthanc_dicom
backend orthanc_dicom
${servers(orthancs, (o) => o.dicomPort)}
`,
  );
  const pidFile = join(dir, "haproxy.pid");
  const log = join(dir, "haproxy.log");
  const pid = startDetached({ name: "haproxy (bench comparison)", command: haproxyExecutable, args: ["-db", "-f", config], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, logFile: log, pidFile });
  const stop = async () => {
    await stopByPidFile(pidFile, haproxyExecutable, "haproxy (bench comparison)", 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!isRunning(pid, haproxyExecutable)) break;
    if (await canConnect(port)) return { port, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const tail = logTail(log);
  await stop();
  throw new TaskError(`the comparison haproxy did not start on 127.0.0.1:${port}:\n${tail}`);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
