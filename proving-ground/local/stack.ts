// The local stack as a whole: PostgreSQL, Orthanc and the TLS terminator, each
// started only when not already running as wanted, and stopped in reverse
// order. The steps are separate functions so `make local-up` can show them one by
// one and tests can drive them.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Helm } from "../../tasks/lib/helm.ts";
import { log, style } from "../../tasks/lib/log.ts";
import { displayPath } from "../../tasks/lib/paths.ts";
import { hostnames } from "../../tasks/lib/settings.ts";
import type { TargetFile } from "../../smoke/target.ts";
import { extraOrthancInstances, localLayout, orthancInstancePaths, type LocalLayout } from "./layout.ts";
import { instanceName, orthancInstances, writeInstanceOverlay } from "./instances.ts";
import type { JsonObject } from "../../tasks/lib/orthanc-config.ts";
import { LocalOrthanc } from "./orthanc.ts";
import { prepare, type Prepared } from "./prepare.ts";
import { listeningAddressesOf, requirePortFree } from "../../tasks/lib/processes.ts";
import { haproxyConfig, LocalProxy, proxyName } from "./proxy.ts";
import { ingressPolicy, type IngressPolicy, type PortPolicy } from "./ingress-policy.ts";
import { parseManifests } from "../../tasks/lib/manifests.ts";
import { LocalPostgresql } from "./postgresql.ts";
import { loadRuntime, type OrthancRuntime } from "./runtime.ts";
import { writePrivate } from "./secret-store.ts";
import { portHint, type LocalSettings } from "./settings.ts";


const show = displayPath;

export function describeOverlay(prepared: Prepared): string[] {
  return JSON.stringify(prepared.overlay, null, 2).split("\n");
}

export async function renderStep(helm: Helm, settings: LocalSettings): Promise<Prepared> {
  const layout = localLayout(settings.dir);
  const prepared = await prepare(helm, settings, layout);
  log.ok(`certificates: ${prepared.keptCertificates ? "kept from the first render" : "from this render"} (${prepared.tls.subject}; SANs ${prepared.tls.sans.join(", ")}) in ${show(layout.tls.dir)}`);
  log.info("local overlay (the only changes to the rendered orthanc.json):");
  for (const line of describeOverlay(prepared)) log.info(`  ${line}`);
  log.ok(`effective configuration: ${show(layout.orthanc.config)}`);
  return prepared;
}

export async function postgresqlStep(settings: LocalSettings): Promise<void> {
  const layout = localLayout(settings.dir);
  const runtime = loadRuntime(layout, settings);
  const postgresql = new LocalPostgresql(layout, settings.ports.postgresql);
  await postgresql.initialize();
  const state = await postgresql.start();
  log.ok(`PostgreSQL ${state === "running" ? "already running" : "started"} on 127.0.0.1:${settings.ports.postgresql} (pid ${postgresql.pid}, data ${show(layout.postgresql.data)})`);
  const db = runtime.facts.database;
  await postgresql.ensureDatabase(db.name, db.username, db.password);
  log.ok(`database "${db.name}" owned by "${db.username}" (password from the generated Secret values)`);
}

/** Starts Orthanc instances 1…N (each unless already running as wanted) and stops any beyond N; returns instance 1's runtime. */
export async function orthancStep(settings: LocalSettings): Promise<OrthancRuntime> {
  const layout = localLayout(settings.dir);
  const runtime = loadRuntime(layout, settings);
  await stopInstancesBeyond(layout, settings.orthancInstances);
  const overlay = existsSync(layout.orthanc.overlay) ? (JSON.parse(readFileSync(layout.orthanc.overlay, "utf8")) as JsonObject) : {};
  for (const instance of orthancInstances(layout, runtime, settings.orthancInstances)) {
    const orthanc = new LocalOrthanc(layout, instance.paths, instance.name);
    if (await orthanc.isCurrent(instance.runtime)) {
      log.ok(`${instance.name} already running with this configuration (pid ${orthanc.pid}); reusing it`);
      continue;
    }
    if (await orthanc.stop()) log.info(`stopped ${instance.name}: its configuration or environment changed`);
    writeInstanceOverlay(runtime, instance, overlay);
    await orthanc.start(instance.runtime);
  }
  if (settings.orthancInstances > 1) log.ok(`${settings.orthancInstances} Orthanc processes share database "${runtime.facts.database.name}" (PostgreSQL "Lock": ${JSON.stringify((runtime.resolved.PostgreSQL as JsonObject | undefined)?.Lock ?? "default")})`);
  writePrivate(layout.credentials, `${JSON.stringify(runtime.facts.login, null, 2)}\n`);
  return runtime;
}

/** Stops instances numbered above `count` (left from a run with more). */
async function stopInstancesBeyond(layout: LocalLayout, count: number): Promise<void> {
  for (const instance of extraOrthancInstances(layout).filter((n) => n > count)) {
    if (await new LocalOrthanc(layout, orthancInstancePaths(layout, instance), instanceName(instance)).stop()) {
      log.info(`stopped ${instanceName(instance)}: the stack now runs ${count} instance${count === 1 ? "" : "s"}`);
    }
  }
}

export async function proxyStep(settings: LocalSettings): Promise<TargetFile> {
  const layout = localLayout(settings.dir);
  const runtime = loadRuntime(layout, settings);
  const proxy = new LocalProxy(layout);
  const instances = orthancInstances(layout, runtime, settings.orthancInstances).map((i) => ({ name: i.name, httpPort: i.runtime.facts.httpPort, dicomPort: i.runtime.facts.dicomPort }));
  const policy = renderedPolicy(layout, settings);
  const modalityCaFile = existsSync(layout.tls.modalityCa) ? layout.tls.modalityCa : undefined;
  const config = haproxyConfig({ ports: settings.ports, orthanc: instances, pemFile: layout.tls.proxyPem, policy, modalityCaFile });
  if (await proxy.isCurrent(config, settings.ports)) {
    log.ok(`${proxyName} already running (pid ${proxy.pid}); reusing it`);
  } else {
    // Check the new ports before stopping the running proxy, so a bad port leaves the stack as it was.
    await requirePortFree(settings.ports.https, `HTTPS of ${proxyName}`, portHint("https"), proxy.pid);
    await requirePortFree(settings.ports.dicom, `DICOM-TLS of ${proxyName}`, portHint("dicom"), proxy.pid);
    if (await proxy.stop()) log.info(`stopped ${proxyName}: its configuration changed`);
    const pid = await proxy.start(config, settings.ports);
    const behind = instances.length === 1 ? "Orthanc" : `${instances.length} Orthancs (round robin)`;
    log.ok(`${proxyName} started (pid ${pid}): 127.0.0.1:${settings.ports.https} → ${behind} HTTP, 127.0.0.1:${settings.ports.dicom} → ${behind} DICOM`);
  }
  log.ok(`TLS policy from the chart's TLSOptions: HTTPS ${describePolicy(policy.web)}; DICOM ${describePolicy(policy.dicom)}`);
  const names = hostnames(settings.domain);
  const target: TargetFile = {
    label: "local stack, haproxy standing in for Traefik/Istio",
    host: "127.0.0.1",
    httpsPort: settings.ports.https,
    dicomPort: settings.ports.dicom,
    webName: names.web,
    dicomName: names.dicom,
    caFile: layout.tls.ca,
    credentialsFile: layout.credentials,
    calledAet: runtime.facts.aet,
    checksCalledAet: runtime.facts.checksCalledAet,
    direct: { host: "127.0.0.1", httpPort: runtime.facts.httpPort, dicomPort: runtime.facts.dicomPort },
    instances,
    clientAuth: policy.dicom.clientAuth,
    ...(existsSync(layout.tls.smokeClientCert) ? { clientCertFile: layout.tls.smokeClientCert, clientKeyFile: layout.tls.smokeClientKey } : {}),
    ...(modalityCaFile ? { modalityCaFile, modalityCaKeyFile: layout.tls.modalityCaKey } : {}),
    checksCallingAet: runtime.resolved.DicomAlwaysAllowEcho === false && runtime.resolved.DicomAlwaysAllowStore === false,
  };
  writeFileSync(layout.target, `${JSON.stringify(target, null, 2)}\n`);
  return target;
}

/** The TLS policy the chart renders for its Traefik routes (the stand-in enforces the same). */
export function renderedPolicy(layout: LocalLayout, settings: LocalSettings): IngressPolicy {
  const objects = parseManifests(readFileSync(layout.manifests, "utf8"), layout.manifests).map((item) => item.object);
  return ingressPolicy(objects, settings.release, show(layout.manifests));
}

function describePolicy(policy: PortPolicy): string {
  const version = policy.minVersion === "TLSv1.3" ? "TLS 1.3 only" : `TLS 1.2 (${policy.ciphers.length} suites) and 1.3`;
  const client = policy.clientAuth === "required" ? ", client certificate required (modality CA)" : policy.clientAuth === "optional" ? ", client certificate verified when given" : "";
  return `${version}${client}`;
}

/** PIDs of the stack's processes; instances ≥ 2 appear as "orthanc-2", … when they have a folder. */
export interface StackProcesses {
  postgresql: number | undefined;
  orthanc: number | undefined;
  proxy: number | undefined;
  [instance: `orthanc-${number}`]: number | undefined;
}

export function stackProcesses(settings: LocalSettings, layout: LocalLayout = localLayout(settings.dir)): StackProcesses {
  const processes: StackProcesses = {
    postgresql: existsSync(layout.postgresql.data) ? new LocalPostgresql(layout, settings.ports.postgresql).pid : undefined,
    orthanc: new LocalOrthanc(layout).pid,
    proxy: new LocalProxy(layout).pid,
  };
  for (const n of extraOrthancInstances(layout)) processes[`orthanc-${n}`] = new LocalOrthanc(layout, orthancInstancePaths(layout, n)).pid;
  return processes;
}

/** Listening addresses of each running part, e.g. { orthanc: ["127.0.0.1:8042", …] }. */
export function stackListeners(settings: LocalSettings): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, pid] of Object.entries(stackProcesses(settings))) if (pid !== undefined) out[name] = listeningAddressesOf(pid);
  return out;
}

/** Stops the proxy, Orthanc, then PostgreSQL; deletes the stack's folder when asked. */
export async function stackDown(settings: LocalSettings, options: { deleteData: boolean }): Promise<void> {
  const layout = localLayout(settings.dir);
  if (await new LocalProxy(layout).stop()) log.ok(`stopped ${proxyName}`);
  for (const n of extraOrthancInstances(layout).reverse()) {
    if (await new LocalOrthanc(layout, orthancInstancePaths(layout, n), instanceName(n)).stop()) log.ok(`stopped ${instanceName(n)}`);
  }
  if (await new LocalOrthanc(layout).stop()) log.ok("stopped Orthanc");
  if (existsSync(layout.postgresql.data) && (await new LocalPostgresql(layout, settings.ports.postgresql).stop())) log.ok("stopped PostgreSQL");
  if (options.deleteData) {
    rmSync(layout.root, { recursive: true, force: true });
    log.ok(`deleted ${show(layout.root)} (database, certificates, credentials, logs)`);
  } else if (existsSync(layout.root)) {
    log.info(`kept ${show(layout.root)}: the database, certificates and credentials are reused by the next \`make local-up\``);
    log.info("to forget them: make local-down DELETE_DATA=1");
  }
}

export function readTargetFile(file: string): TargetFile | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as TargetFile) : undefined;
}

export function printSummary(settings: LocalSettings, target: TargetFile): void {
  const layout = localLayout(settings.dir);
  const port = (p: number) => (p === 443 ? "" : `:${p}`);
  log.plain("");
  log.plain(style.bold(`Local stack is up: Orthanc and PostgreSQL behind ${proxyName}`));
  log.plain(`  HTTPS (REST, Orthanc Explorer)  https://${target.webName}${port(target.httpsPort)}/  → 127.0.0.1:${target.httpsPort}`);
  log.plain(`  DICOM over TLS                  ${target.dicomName}:${target.dicomPort} (AE title ${target.calledAet}) → 127.0.0.1:${target.dicomPort}`);
  if (target.instances && target.instances.length > 1) {
    log.plain(`  Orthanc processes               ${target.instances.map((i) => `${i.name} (HTTP ${i.httpPort}, DICOM ${i.dicomPort})`).join(", ")}, one database`);
  }
  log.plain(`  CA certificate                  ${show(layout.tls.ca)}`);
  if (target.clientAuth && target.clientAuth !== "none") {
    log.plain(`  DICOM client certificates       ${target.clientAuth} on ${target.dicomPort}; modality CA ${show(layout.tls.modalityCa)}; smoke's ${show(layout.tls.smokeClientCert)}`);
    log.plain(`  a modality's certificate        make modality-cert NAME=ct-scanner-1 ARGS="--approach local"`);
  }
  log.plain(`  credentials                     ${show(layout.credentials)}  (username and password, 0600)`);
  const orthancLogs = (target.instances ?? [{ name: "Orthanc" }]).map((_, i) => show(orthancInstancePaths(layout, i + 1).log));
  log.plain(`  logs                            ${orthancLogs.join(", ")}, ${show(layout.proxy.log)}, ${show(layout.postgresql.log)}`);
  log.plain(`  try it                          curl --cacert ${show(layout.tls.ca)} --resolve ${target.webName}:${target.httpsPort}:127.0.0.1 -u USER:PASSWORD https://${target.webName}${port(target.httpsPort)}/system`);
  log.plain("");
  log.plain("Next:");
  log.plain("  make smoke       check it end to end again (table + JSON report)");
  log.plain("  make bench       C-STORE throughput through the TLS terminator and directly");
  log.plain("  make local-down   stop it (data kept; DELETE_DATA=1 to delete it)");
}
