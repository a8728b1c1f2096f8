// Renders the Orthanc chart and picks out what the local stack runs, per the
// chart's contract: ConfigMap <release>-config (key orthanc.json), Secret
// <release>-tls (tls.crt, tls.key, ca.crt), and the env of container
// "orthanc" in Deployment <release>. A missing piece is an error that names it.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { TaskError } from "../../tasks/lib/errors.ts";
import type { Helm } from "../../tasks/lib/helm.ts";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { containerEnvSpecs, type EnvSpec } from "./container-env.ts";
import { displayPath } from "../../tasks/lib/paths.ts";
import type { LocalSettings } from "./settings.ts";

export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

export interface RenderedOrthanc {
  /** How it was rendered, for messages: "helm template orthanc helm/orthanc -f proving-ground/local/values.yaml". */
  source: string;
  manifests: string;
  /** orthanc.json exactly as rendered. */
  configText: string;
  env: EnvSpec[];
  /** Present when the chart generates certificates. */
  tls: TlsMaterial | undefined;
  /** data of every rendered ConfigMap, for env configMapKeyRef. */
  configMaps: Map<string, Record<string, string>>;
}

const contractHint = "the chart must render ConfigMap <release>-config (orthanc.json), Deployment <release> with container orthanc, and Secret <release>-tls when it generates certificates";

export async function renderOrthanc(helm: Helm, settings: LocalSettings): Promise<RenderedOrthanc> {
  const chart = displayPath(settings.chart);
  const values = settings.valuesFiles.map((file) => `-f ${displayPath(file)}`).join(" ");
  const source = `helm template ${settings.release} ${chart} -n ${settings.namespace} ${values}`;
  const manifests = await helm.template({ release: settings.release, chart: settings.chart, namespace: settings.namespace, valuesFiles: settings.valuesFiles });
  return { ...extractOrthanc(manifests, settings.release, source), manifests };
}

export function extractOrthanc(manifests: string, release: string, source: string): Omit<RenderedOrthanc, "manifests"> {
  const objects = parseManifests(manifests, source).map((item) => item.object);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

  const configMaps = new Map<string, Record<string, string>>();
  for (const object of objects) {
    if (object.kind === "ConfigMap" && typeof object.metadata?.name === "string") {
      configMaps.set(object.metadata.name, (object.data ?? {}) as Record<string, string>);
    }
  }
  const configText = configMaps.get(`${release}-config`)?.["orthanc.json"];
  if (typeof configText !== "string" || configText.trim() === "") {
    throw new TaskError(`${source} rendered no ConfigMap ${release}-config with key orthanc.json`, { code: "invalidValues", hint: contractHint });
  }

  const deployment = find("Deployment", release) as (KubeObject & { spec?: { template?: { spec?: { containers?: { name?: unknown }[] } } } }) | undefined;
  if (!deployment) throw new TaskError(`${source} rendered no Deployment ${release}`, { code: "invalidValues", hint: contractHint });
  const container = deployment.spec?.template?.spec?.containers?.find((c) => c.name === "orthanc");
  if (!container) throw new TaskError(`Deployment ${release} (${source}) has no container named orthanc`, { code: "invalidValues", hint: contractHint });
  const env = containerEnvSpecs(container, `Deployment ${release} container orthanc`);

  const secret = find("Secret", `${release}-tls`);
  const tls = secret ? tlsFromSecret(secret, `Secret ${release}-tls`) : undefined;
  return { source, configText, env, tls, configMaps };
}

function tlsFromSecret(secret: KubeObject, where: string): TlsMaterial {
  const data = (secret.data ?? {}) as Record<string, string>;
  const decode = (key: string) => {
    const value = data[key];
    if (typeof value !== "string" || value === "") throw new TaskError(`${where} has no ${key}`, { code: "invalidValues", hint: contractHint });
    return Buffer.from(value, "base64").toString("utf8");
  };
  return { cert: decode("tls.crt"), key: decode("tls.key"), ca: decode("ca.crt") };
}

export interface TlsFacts {
  subject: string;
  sans: string[];
  notAfter: Date;
}

/** Checks the leaf: parses, matches its key, is signed by the CA, is valid now, and names every host in `hostnames`. */
export function checkTlsMaterial(tls: TlsMaterial, hostnames: readonly string[], where: string, now = new Date()): TlsFacts {
  let leaf: X509Certificate;
  let ca: X509Certificate;
  try {
    leaf = new X509Certificate(tls.cert);
    ca = new X509Certificate(tls.ca);
  } catch (error) {
    throw new TaskError(`${where}: a certificate does not parse: ${(error as Error).message}`, { code: "invalidValues" });
  }
  const problems: string[] = [];
  if (!leaf.checkPrivateKey(createPrivateKey(tls.key))) problems.push("tls.key does not belong to tls.crt");
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) problems.push("tls.crt is not signed by ca.crt");
  if (new Date(leaf.validTo) < now || new Date(leaf.validFrom) > now) problems.push(`tls.crt is not valid now (${leaf.validFrom} – ${leaf.validTo})`);
  for (const host of hostnames) if (!leaf.checkHost(host, { subject: "never" })) problems.push(`tls.crt has no SAN for ${host}`);
  if (problems.length) throw new TaskError(`${where}: ${problems.join("; ")}`, { code: "invalidValues" });
  const sans = (leaf.subjectAltName ?? "").split(",").map((s) => s.trim().replace(/^DNS:/, "")).filter(Boolean);
  return { subject: leaf.subject.replaceAll("\n", ", "), sans, notAfter: new Date(leaf.validTo) };
}
