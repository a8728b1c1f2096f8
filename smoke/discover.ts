// Finds the target to check. Three ways:
//   explicit — host, ports, names, CA file and credentials from flags or env;
//   local    — the local stack's target file (written by `make local-up`);
//   kube     — the current kube context: the gateway's LoadBalancer address, the
//              CA and the login from their Secrets, the AE title from the chart's ConfigMap.
// "auto" picks explicit when a host is given, else local when the stack runs, else kube.
import { lookup } from "node:dns/promises";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { TaskError } from "../tasks/lib/errors.ts";
import type { Kube } from "../tasks/lib/kube.ts";
import { parseTemplate } from "../tasks/lib/orthanc-config.ts";
import { displayPath } from "../tasks/lib/paths.ts";
import { hostnames, type Settings } from "../tasks/lib/settings.ts";
import type { FlagSpec, FlagValues } from "../tasks/lib/task.ts";
import { requireToolPath } from "../tasks/lib/tools.ts";
import { orthancServicePorts, portForward } from "./port-forward.ts";
import { defaultCallingAet, type Credentials, type KeyMaterial, type SmokeTarget, type TargetFile } from "./target.ts";

interface Option {
  flag: string;
  env: string;
  description: string;
}

const option = (flag: string, env: string, description: string): Option => ({ flag, env, description });

export const targetOptions = [
  option("target", "SMOKE_TARGET", "auto | local | kube | explicit (default auto)"),
  option("host", "SMOKE_HOST", "address of the gateway (explicit target)"),
  option("https-port", "SMOKE_HTTPS_PORT", "HTTPS port (default 443)"),
  option("dicom-port", "SMOKE_DICOM_PORT", "DICOM-TLS port (default 11112)"),
  option("web-name", "SMOKE_WEB_NAME", "HTTPS host name: SNI, Host header and SAN (default web.<domain>)"),
  option("dicom-name", "SMOKE_DICOM_NAME", "name the DICOM certificate must carry (default dicom.<domain>)"),
  option("ca-file", "SMOKE_CA_FILE", "PEM file of the deployment's CA (default: the system's CAs)"),
  option("credentials-file", "SMOKE_CREDENTIALS_FILE", 'JSON file {"username": …, "password": …}'),
  option("username", "SMOKE_USERNAME", "REST username (the password only from SMOKE_PASSWORD, never a flag)"),
  option("called-aet", "SMOKE_CALLED_AET", "AE title of Orthanc (default: from the target, else ORTHANC)"),
  option("calling-aet", "SMOKE_CALLING_AET", `our AE title (default ${defaultCallingAet})`),
  option("check-called-aet", "SMOKE_CHECK_CALLED_AET", "yes | no: does the target reject a wrong called AE title (default: from the target)"),
  option("tenant", "SMOKE_TENANT", "gitops tenant: hostnames web.<tenant>.<domain> and dicom.<tenant>.<domain>"),
  option("gateway-service", "SMOKE_GATEWAY_SERVICE", "kube: NAMESPACE/NAME of the gateway Service (default traefik/traefik)"),
  option("ca-secret", "SMOKE_CA_SECRET", "kube: NAMESPACE/NAME of the Secret holding ca.crt (default <namespace>/<release>-tls)"),
  option("credentials-secret", "SMOKE_CREDENTIALS_SECRET", "kube: NAMESPACE/NAME of the Secret with username/password (default <namespace>/orthanc-admin)"),
  option("client-cert", "SMOKE_CLIENT_CERT", "PEM file of the client certificate for DICOM (mutual TLS; a file, never the key itself on a command line)"),
  option("client-key", "SMOKE_CLIENT_KEY", "PEM file of its private key"),
  option("client-auth", "SMOKE_CLIENT_AUTH", "required | optional | none: what the DICOM port asks of clients (default: from the target; kube and explicit: required)"),
  option("client-secret", "SMOKE_CLIENT_SECRET", "kube: NAMESPACE/NAME of the Secret with the smoke client's tls.crt/tls.key (default <namespace>/<release>-smoke-client)"),
  option("modality-ca-secret", "SMOKE_MODALITY_CA_SECRET", "kube: NAMESPACE/NAME of the modality CA Secret; with its tls.key smoke also checks an expired certificate (default <namespace>/<release>-modality-ca)"),
  option("foreign-client-secret", "SMOKE_FOREIGN_CLIENT_SECRET", "kube: NAMESPACE/NAME of another deployment's client certificate Secret (gitops: the other tenant's), which must be refused"),
  option("foreign-credentials-secret", "SMOKE_FOREIGN_CREDENTIALS_SECRET", "kube: NAMESPACE/NAME of another deployment's login Secret (gitops: the other tenant's orthanc-admin), which must get 401 here"),
  option("via", "SMOKE_VIA", "kube: gateway (default: through the TLS ingress) | port-forward (no gateway can run: plain HTTP and DICOM to Orthanc's Service through kubectl port-forward, TLS checks skipped)"),
] as const;

export const targetFlags: Record<string, FlagSpec> = Object.fromEntries(
  targetOptions.map((o) => [o.flag, { type: "string", description: `${o.description} [env ${o.env}]` } satisfies FlagSpec]),
);

type OptionName = (typeof targetOptions)[number]["flag"];

export class TargetOptions {
  private readonly flags: FlagValues;
  private readonly env: NodeJS.ProcessEnv;
  constructor(flags: FlagValues, env: NodeJS.ProcessEnv = process.env) {
    this.flags = flags;
    this.env = env;
  }

  get(name: OptionName): string | undefined {
    const flag = this.flags[name];
    if (typeof flag === "string") return flag;
    const spec = targetOptions.find((o) => o.flag === name)!;
    const value = this.env[spec.env];
    return value === undefined || value === "" ? undefined : value;
  }

  port(name: "https-port" | "dicom-port", fallback: number): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new TaskError(`invalid --${name} "${raw}": expected a port number`, { code: "usage" });
    return value;
  }

  clientAuth(): "required" | "optional" | "none" | undefined {
    const raw = this.get("client-auth");
    if (raw === undefined) return undefined;
    if (raw === "required" || raw === "optional" || raw === "none") return raw;
    throw new TaskError(`invalid --client-auth "${raw}": expected required, optional or none`, { code: "usage" });
  }

  yesNo(name: "check-called-aet"): boolean | undefined {
    const raw = this.get(name);
    if (raw === undefined) return undefined;
    if (/^(yes|true|1)$/i.test(raw)) return true;
    if (/^(no|false|0)$/i.test(raw)) return false;
    throw new TaskError(`invalid --${name} "${raw}": expected yes or no`, { code: "usage" });
  }

  aet(name: "called-aet" | "calling-aet", fallback: string): string {
    const value = this.get(name) ?? fallback;
    if (!/^[\x21-\x5b\x5d-\x7e][\x20-\x5b\x5d-\x7e]{0,15}$/.test(value) || value.length > 16) {
      throw new TaskError(`invalid --${name} "${value}": an AE title is 1–16 printable ASCII characters without backslash`, { code: "usage" });
    }
    return value.trim();
  }
}

const show = displayPath;

function readCredentialsFile(file: string): Credentials {
  if (!existsSync(file)) throw new TaskError(`credentials file ${file} does not exist`, { code: "usage" });
  const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<Credentials>;
  if (typeof parsed.username !== "string" || typeof parsed.password !== "string") {
    throw new TaskError(`credentials file ${file} must hold {"username": "…", "password": "…"}`, { code: "usage" });
  }
  return { username: parsed.username, password: parsed.password };
}

/** The client certificate from --client-cert/--client-key files, when given (both or neither). */
function clientFromFiles(options: TargetOptions): KeyMaterial | undefined {
  const certFile = options.get("client-cert");
  const keyFile = options.get("client-key");
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new TaskError(`--client-cert and --client-key go together (got only ${certFile ? "--client-cert" : "--client-key"})`, { code: "usage" });
  for (const file of [certFile, keyFile]) if (!existsSync(file)) throw new TaskError(`client certificate file ${file} does not exist`, { code: "usage" });
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), source: `file ${show(certFile)}` };
}

function readCa(file: string): string {
  if (!existsSync(file)) throw new TaskError(`CA file ${file} does not exist`, { code: "usage" });
  return readFileSync(file, "utf8");
}

/** Explicit credentials, when given: file, or username + SMOKE_PASSWORD. */
function explicitCredentials(options: TargetOptions, env: NodeJS.ProcessEnv): { credentials: Credentials; source: string } | undefined {
  const file = options.get("credentials-file");
  if (file) return { credentials: readCredentialsFile(file), source: `file ${show(file)}` };
  const username = options.get("username");
  if (username) {
    const password = env.SMOKE_PASSWORD;
    if (!password) throw new TaskError("--username given without SMOKE_PASSWORD in the environment", { code: "usage" });
    return { credentials: { username, password }, source: "--username and SMOKE_PASSWORD" };
  }
  return undefined;
}

/** Connect by IP: resolve a host name once, so no SNI goes out on the DICOM port (as with modalities). */
async function toAddress(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host)).address;
  } catch {
    throw new TaskError(`cannot resolve ${host}`, { code: "usage", hint: "pass the gateway's address with --host" });
  }
}

export async function explicitTarget(options: TargetOptions, settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<SmokeTarget> {
  const host = options.get("host");
  if (!host) throw new TaskError("--host (or SMOKE_HOST) is required for an explicit target", { code: "usage" });
  const names = hostnames(settings.domain, options.get("tenant"));
  const caFile = options.get("ca-file");
  const given = explicitCredentials(options, env);
  const address = await toAddress(host);
  return {
    label: `${host}${address !== host ? ` (${address})` : ""}`,
    host: address,
    httpsPort: options.port("https-port", 443),
    dicomPort: options.port("dicom-port", 11112),
    webName: options.get("web-name") ?? names.web,
    dicomName: options.get("dicom-name") ?? names.dicom,
    ca: caFile ? readCa(caFile) : undefined,
    caSource: caFile ? `file ${show(caFile)}` : "the system's trusted CAs",
    caFile,
    credentials: given?.credentials,
    credentialsSource: given?.source ?? "none given (--credentials-file, or --username with SMOKE_PASSWORD)",
    calledAet: options.aet("called-aet", "ORTHANC"),
    callingAet: options.aet("calling-aet", defaultCallingAet),
    // Our chart turns DicomCheckCalledAet on; say --check-called-aet no for targets that do not.
    checksCalledAet: options.yesNo("check-called-aet") ?? true,
    ...withClient(clientFromFiles(options)),
    // Our chart requires client certificates on 11112 by default; say --client-auth none for targets that do not.
    clientAuth: options.clientAuth() ?? "required",
  };
}

const withClient = (client: KeyMaterial | undefined) => (client ? { client } : {});

export function localTarget(options: TargetOptions, targetFile: string, env: NodeJS.ProcessEnv = process.env): SmokeTarget {
  if (!existsSync(targetFile)) {
    throw new TaskError(`the local stack has not been started (no ${show(targetFile)})`, { code: "usage", hint: "start it with `make local-up`, or name a target: --target kube, or --host …" });
  }
  const file = JSON.parse(readFileSync(targetFile, "utf8")) as TargetFile;
  const given = explicitCredentials(options, env);
  const caFile = options.get("ca-file") ?? file.caFile;
  const credentials = given ?? (existsSync(file.credentialsFile) ? { credentials: readCredentialsFile(file.credentialsFile), source: `file ${show(file.credentialsFile)}` } : undefined);
  return {
    label: file.label,
    host: options.get("host") ?? file.host,
    httpsPort: options.port("https-port", file.httpsPort),
    dicomPort: options.port("dicom-port", file.dicomPort),
    webName: options.get("web-name") ?? file.webName,
    dicomName: options.get("dicom-name") ?? file.dicomName,
    ca: readCa(caFile),
    caSource: `file ${show(caFile)}`,
    caFile,
    credentials: credentials?.credentials,
    credentialsSource: credentials?.source ?? `none (${show(file.credentialsFile)} is missing)`,
    calledAet: options.aet("called-aet", file.calledAet),
    callingAet: options.aet("calling-aet", defaultCallingAet),
    checksCalledAet: options.yesNo("check-called-aet") ?? file.checksCalledAet,
    direct: file.direct,
    ...withClient(clientFromFiles(options) ?? keyFiles(file.clientCertFile, file.clientKeyFile, "the smoke client's certificate")),
    ...(file.clientAuth || options.clientAuth() ? { clientAuth: options.clientAuth() ?? file.clientAuth } : {}),
    ...(keyFiles(file.modalityCaFile, file.modalityCaKeyFile, "the local modality CA") ? { modalityCa: keyFiles(file.modalityCaFile, file.modalityCaKeyFile, "the local modality CA")! } : {}),
    ...(file.checksCallingAet === undefined ? {} : { checksCallingAet: file.checksCallingAet }),
  };
}

/** A certificate and key from the local stack's files, when both exist. */
function keyFiles(certFile: string | undefined, keyFile: string | undefined, what: string): KeyMaterial | undefined {
  if (!certFile || !keyFile || !existsSync(certFile) || !existsSync(keyFile)) return undefined;
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), source: `${what}, file ${show(certFile)}` };
}

function splitRef(ref: string, flag: string): { namespace: string; name: string } {
  const [namespace, name, extra] = ref.split("/");
  if (!namespace || !name || extra !== undefined) throw new TaskError(`invalid --${flag} "${ref}": expected NAMESPACE/NAME`, { code: "usage" });
  return { namespace, name };
}

interface KubeSecret {
  data?: Record<string, string>;
}

async function secretValue(kube: Kube, ref: { namespace: string; name: string }, key: string, flag: string): Promise<string> {
  const secret = await kube.get<KubeSecret>("secret", ref.name, ref.namespace);
  if (!secret) throw new TaskError(`Secret ${ref.namespace}/${ref.name} not found`, { code: "usage", hint: `is this the right context and release? (--${flag} NAMESPACE/NAME)` });
  const value = secret.data?.[key];
  if (!value) throw new TaskError(`Secret ${ref.namespace}/${ref.name} has no key ${key}`, { code: "usage" });
  return Buffer.from(value, "base64").toString("utf8");
}

interface KubeService {
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** Reads DicomAet and DicomCheckCalledAet from the chart's ConfigMap (undefined where it uses ${VAR} references). */
async function aetFromConfigMap(kube: Kube, namespace: string, release: string): Promise<{ aet?: string; checks?: boolean; checksCallingAet?: boolean }> {
  const configMap = await kube.get<{ data?: Record<string, string> }>("configmap", `${release}-config`, namespace);
  const text = configMap?.data?.["orthanc.json"];
  if (!text) return {};
  const config = parseTemplate(text, `ConfigMap ${namespace}/${release}-config`);
  return {
    aet: typeof config.DicomAet === "string" && !config.DicomAet.includes("${") ? config.DicomAet : undefined,
    checks: typeof config.DicomCheckCalledAet === "boolean" ? config.DicomCheckCalledAet : undefined,
    checksCallingAet: typeof config.DicomAlwaysAllowEcho === "boolean" ? config.DicomAlwaysAllowEcho === false && config.DicomAlwaysAllowStore === false : undefined,
  };
}

/** tls.crt and tls.key of a Secret, or undefined when it (or its key) is absent: the checks that need it say so. */
async function keyPairFromSecret(kube: Kube, ref: { namespace: string; name: string }): Promise<KeyMaterial | undefined> {
  const secret = await kube.get<KubeSecret>("secret", ref.name, ref.namespace);
  const cert = secret?.data?.["tls.crt"];
  const key = secret?.data?.["tls.key"];
  if (!cert || !key) return undefined;
  return { cert: Buffer.from(cert, "base64").toString("utf8"), key: Buffer.from(key, "base64").toString("utf8"), source: `Secret ${ref.namespace}/${ref.name}` };
}

/** A login Secret's username and password, for a client that must be refused (gitops: the other tenant's). */
async function foreignCredentials(options: TargetOptions, kube: Kube): Promise<SmokeTarget["foreignCredentials"]> {
  const raw = options.get("foreign-credentials-secret");
  if (!raw) return undefined;
  const ref = splitRef(raw, "foreign-credentials-secret");
  const read = (key: string) => secretValue(kube, ref, key, "foreign-credentials-secret");
  return { username: await read("username"), password: await read("password"), source: `Secret ${ref.namespace}/${ref.name}` };
}

/** Orthanc's login: --username/--password or the environment, else the --credentials-secret (default NAMESPACE/orthanc-admin). */
async function loginFor(options: TargetOptions, kube: Kube, namespace: string, env: NodeJS.ProcessEnv) {
  const explicit = explicitCredentials(options, env);
  if (explicit) return explicit;
  const ref = splitRef(options.get("credentials-secret") ?? `${namespace}/orthanc-admin`, "credentials-secret");
  return {
    credentials: { username: await secretValue(kube, ref, "username", "credentials-secret"), password: await secretValue(kube, ref, "password", "credentials-secret") },
    source: `Secret ${ref.namespace}/${ref.name}`,
  };
}

/**
 * The target without its gateway (--via port-forward): Orthanc's Service through kubectl port-forward,
 * plain HTTP and DICOM on 127.0.0.1, and the reason in the target itself so the output says it.
 */
async function portForwardTarget(options: TargetOptions, settings: Settings, kube: Kube, context: string, env: NodeJS.ProcessEnv): Promise<SmokeTarget> {
  const namespace = settings.namespaces.orthanc;
  const release = settings.releases.orthanc;
  const service = await kube.get<{ spec?: { ports?: { name?: string; port: number; targetPort?: number | string }[] } }>("service", release, namespace);
  if (!service) throw new TaskError(`Orthanc's Service ${namespace}/${release} not found`, { code: "usage", hint: "is this the right context, --namespace and --release?" });
  const found = orthancServicePorts(service.spec?.ports ?? []);
  if (!found) throw new TaskError(`Service ${namespace}/${release} has no ports leading to the container ports named http and dicom (the orthanc chart's)`, { code: "usage", hint: "is --release the orthanc chart's release?" });
  const { http, dicom } = found;
  const forward = await portForward(requireToolPath("kubectl"), kube.options.context ? ["--context", kube.options.context] : [], namespace, release, [http, dicom]);
  try {
    const credentials = await loginFor(options, kube, namespace, env);
    const fromConfig = await aetFromConfigMap(kube, namespace, release);
    const names = hostnames(settings.domain, options.get("tenant"));
    const foreign = await foreignCredentials(options, kube);
    return {
      label: `kube context ${context}, release ${namespace}/${release}, WITHOUT a gateway: kubectl port-forward to ${forward.description}`,
      host: "127.0.0.1",
      httpsPort: forward.ports[0]!,
      dicomPort: forward.ports[1]!,
      webName: options.get("web-name") ?? names.web,
      dicomName: options.get("dicom-name") ?? names.dicom,
      ca: undefined,
      caSource: "none (plain HTTP and DICOM: no TLS without the gateway)",
      credentials: credentials.credentials,
      credentialsSource: credentials.source,
      calledAet: options.aet("called-aet", fromConfig.aet ?? "ORTHANC"),
      callingAet: options.aet("calling-aet", defaultCallingAet),
      checksCalledAet: options.yesNo("check-called-aet") ?? fromConfig.checks,
      ...(fromConfig.checksCallingAet === undefined ? {} : { checksCallingAet: fromConfig.checksCallingAet }),
      ...(foreign ? { foreignCredentials: foreign } : {}),
      plain: {
        why: `no gateway in front of Orthanc here (--via port-forward); Orthanc's own ports ${http} (HTTP) and ${dicom} (DICOM) reached through kubectl port-forward to ${forward.description}`,
      },
      stop: forward.stop,
    };
  } catch (error) {
    forward.stop();
    throw error;
  }
}

export async function kubeTarget(options: TargetOptions, settings: Settings, kube: Kube, env: NodeJS.ProcessEnv = process.env): Promise<SmokeTarget> {
  const namespace = settings.namespaces.orthanc;
  const release = settings.releases.orthanc;
  const context = (await kube.contextName()) ?? "";
  if (!context) throw new TaskError("no kube context is selected", { code: "kubeContext", hint: "kubectl config use-context NAME, or pass --context NAME" });
  const via = options.get("via") ?? "gateway";
  if (via !== "gateway" && via !== "port-forward") throw new TaskError(`invalid --via "${via}": expected gateway or port-forward`, { code: "usage" });
  if (via === "port-forward") return portForwardTarget(options, settings, kube, context, env);

  const gateway = splitRef(options.get("gateway-service") ?? `${settings.namespaces.traefik}/${settings.releases.traefik}`, "gateway-service");
  let host = options.get("host");
  if (!host) {
    const service = await kube.get<KubeService>("service", gateway.name, gateway.namespace);
    if (!service) throw new TaskError(`gateway Service ${gateway.namespace}/${gateway.name} not found`, { code: "usage", hint: "pass --gateway-service NAMESPACE/NAME, or --host" });
    const ingress = service.status?.loadBalancer?.ingress?.[0];
    host = ingress?.ip ?? ingress?.hostname;
    if (!host) {
      throw new TaskError(`gateway Service ${gateway.namespace}/${gateway.name} has no LoadBalancer address yet`, {
        code: "usage",
        hint: "wait for it (kubectl get svc -w), or pass the address with --host (e.g. a node IP with the NodePorts)",
      });
    }
  }

  const caRef = splitRef(options.get("ca-secret") ?? `${namespace}/${release}-tls`, "ca-secret");
  const caFile = options.get("ca-file");
  const ca = caFile ? readCa(caFile) : await secretValue(kube, caRef, "ca.crt", "ca-secret");
  const credentials = await loginFor(options, kube, namespace, env);
  const fromConfig = await aetFromConfigMap(kube, namespace, release);
  let client = clientFromFiles(options);
  if (!client) {
    const ref = splitRef(options.get("client-secret") ?? `${namespace}/${release}-smoke-client`, "client-secret");
    client = await keyPairFromSecret(kube, ref);
    if (!client && options.get("client-secret")) throw new TaskError(`Secret ${ref.namespace}/${ref.name} not found or without tls.crt/tls.key`, { code: "usage", hint: "the install creates the smoke client's certificate; or pass --client-cert/--client-key" });
  }
  const modalityCa = await keyPairFromSecret(kube, splitRef(options.get("modality-ca-secret") ?? `${namespace}/${release}-modality-ca`, "modality-ca-secret"));
  const foreignRef = options.get("foreign-client-secret");
  const foreignClient = foreignRef ? await keyPairFromSecret(kube, splitRef(foreignRef, "foreign-client-secret")) : undefined;
  if (foreignRef && !foreignClient) throw new TaskError(`Secret ${foreignRef} (--foreign-client-secret) not found or without tls.crt/tls.key`, { code: "usage" });
  const names = hostnames(settings.domain, options.get("tenant"));
  const address = await toAddress(host);
  return {
    label: `kube context ${context}, release ${namespace}/${release}, gateway ${gateway.namespace}/${gateway.name} at ${host}`,
    host: address,
    httpsPort: options.port("https-port", 443),
    dicomPort: options.port("dicom-port", 11112),
    webName: options.get("web-name") ?? names.web,
    dicomName: options.get("dicom-name") ?? names.dicom,
    ca,
    caSource: caFile ? `file ${show(caFile)}` : `Secret ${caRef.namespace}/${caRef.name}`,
    caFile,
    credentials: credentials.credentials,
    credentialsSource: credentials.source,
    calledAet: options.aet("called-aet", fromConfig.aet ?? "ORTHANC"),
    callingAet: options.aet("calling-aet", defaultCallingAet),
    checksCalledAet: options.yesNo("check-called-aet") ?? fromConfig.checks,
    ...withClient(client),
    clientAuth: options.clientAuth() ?? "required",
    ...(modalityCa ? { modalityCa } : {}),
    ...(foreignClient ? { foreignClient } : {}),
    ...(fromConfig.checksCallingAet === undefined ? {} : { checksCallingAet: fromConfig.checksCallingAet }),
    ...(await foreignCredentials(options, kube).then((foreign) => (foreign ? { foreignCredentials: foreign } : {}))),
  };
}

export type TargetKind = "local" | "kube" | "explicit";

export async function discoverTarget(
  options: TargetOptions,
  settings: Settings,
  kube: Kube,
  localTargetFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ kind: TargetKind; target: SmokeTarget }> {
  const wanted = options.get("target") ?? "auto";
  if (!["auto", "local", "kube", "explicit"].includes(wanted)) throw new TaskError(`invalid --target "${wanted}": expected auto, local, kube or explicit`, { code: "usage" });
  let kind: TargetKind;
  if (wanted !== "auto") kind = wanted as TargetKind;
  else if (options.get("host")) kind = "explicit";
  else if (existsSync(localTargetFile)) kind = "local";
  else kind = "kube";
  if (kind === "explicit") return { kind, target: await explicitTarget(options, settings, env) };
  if (kind === "local") return { kind, target: localTarget(options, localTargetFile, env) };
  return { kind, target: await kubeTarget(options, settings, kube, env) };
}
