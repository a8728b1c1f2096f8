// Where a modality's client certificate comes from, per approach:
//   local   the local stack's modality CA (files under .work/local/tls), signed here;
//   helm    the chart's generated modality CA (Secret <namespace>/<release>-modality-ca), signed here;
//   manual, gitops  cert-manager: a Certificate (usage client auth) from Issuer
//           orthanc-modality-ca in the gateway's namespace, read back from its Secret.
// Each also names the CA that signed the ingress's certificate, which the
// modality must trust to verify the server.
import { existsSync, readFileSync } from "node:fs";
import { TaskError } from "../lib/errors.ts";
import type { Kube } from "../lib/kube.ts";
import { waitForCondition } from "../lib/kube-wait.ts";
import { checkCa, issueClient, readCaFiles, type Pem } from "../lib/pki.ts";
import type { Settings } from "../lib/settings.ts";
import { displayPath } from "../lib/paths.ts";
import { localTargetFile, type TargetFile } from "../../smoke/target.ts";

export const approaches = ["local", "helm", "manual", "gitops"] as const;
export type Approach = (typeof approaches)[number];

export interface Issued {
  client: Pem;
  /** The modality CA's certificate (the issuer of client). */
  modalityCa: string;
  /** The CA of the ingress's server certificate. */
  serverCa: string;
  /** Where it came from, for the summary. */
  source: string;
}

export interface IssueRequest {
  approach: Approach;
  name: string;
  tenant: string | undefined;
  days: number;
  settings: Settings;
  kube: Kube;
}

interface SecretObject {
  data?: Record<string, string>;
}

const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");

async function secretKeys(kube: Kube, namespace: string, name: string, keys: readonly string[], missing: () => TaskError): Promise<Record<string, string>> {
  const secret = await kube.get<SecretObject>("secret", name, namespace);
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = secret?.data?.[key];
    if (!value) throw missing();
    out[key] = decode(value);
  }
  return out;
}

/** The local stack names its modality CA in the target file it writes (paths only); smoke reads the same file. */
async function fromLocal(request: IssueRequest): Promise<Issued> {
  const targetFile = localTargetFile();
  const hint = "start the local stack first (make local-up); it keeps the modality CA of the chart's render under .work/local/tls";
  if (!existsSync(targetFile)) throw new TaskError(`the modality CA is missing: the local stack has not been started (no ${displayPath(targetFile)})`, { hint });
  const file = JSON.parse(readFileSync(targetFile, "utf8")) as TargetFile;
  if (!file.modalityCaFile || !file.modalityCaKeyFile) throw new TaskError(`the modality CA is missing: the local stack runs without one (dicom.clientAuth none?)`, { hint });
  const ca = readCaFiles(file.modalityCaFile, file.modalityCaKeyFile, hint);
  checkCa(ca, file.modalityCaFile);
  if (!existsSync(file.caFile)) throw new TaskError(`the local stack's server CA is missing: no ${file.caFile}`, { hint });
  const client = await issueClient(ca, { commonName: request.name, days: request.days });
  return { client, modalityCa: ca.cert, serverCa: readFileSync(file.caFile, "utf8"), source: `the local stack's modality CA (${displayPath(file.modalityCaFile)})` };
}

async function fromHelm(request: IssueRequest): Promise<Issued> {
  const namespace = request.settings.namespaces.orthanc;
  const release = request.settings.releases.orthanc;
  const context = (await request.kube.contextName()) ?? "(current)";
  const caName = `${release}-modality-ca`;
  const pair = await secretKeys(request.kube, namespace, caName, ["tls.crt", "tls.key"], () =>
    new TaskError(`the modality CA is missing: Secret ${namespace}/${caName} with tls.crt and tls.key not found in kube context ${context}`, {
      hint: "install the helm approach first (make helm-install; dicom.clientAuth must not be none and dicom.modalityCa.mode generate), or pick the approach with --approach",
    }),
  );
  const ca = { cert: pair["tls.crt"]!, key: pair["tls.key"]! };
  checkCa(ca, `Secret ${namespace}/${caName}`);
  const server = await secretKeys(request.kube, namespace, `${release}-tls`, ["ca.crt"], () => new TaskError(`Secret ${namespace}/${release}-tls has no ca.crt (the ingress certificate's CA)`));
  const client = await issueClient(ca, { commonName: request.name, days: request.days });
  return { client, modalityCa: ca.cert, serverCa: server["ca.crt"]!, source: `Secret ${namespace}/${caName} in kube context ${context}` };
}

/** The gateway namespace that holds the modality CA's Issuer: istio-ingress (manual), <tenant>-ingress (gitops). */
export function issuerNamespace(approach: "manual" | "gitops", tenant: string | undefined): string {
  return approach === "manual" ? "istio-ingress" : `${tenant}-ingress`;
}

export const certificateName = (name: string) => `modality-${name}`;

async function fromCertManager(request: IssueRequest & { approach: "manual" | "gitops" }): Promise<Issued> {
  const namespace = issuerNamespace(request.approach, request.tenant);
  const context = (await request.kube.contextName()) ?? "(current)";
  const issuer = await request.kube.get("issuer.cert-manager.io", "orthanc-modality-ca", namespace);
  if (!issuer) {
    throw new TaskError(`the modality CA is missing: no cert-manager Issuer ${namespace}/orthanc-modality-ca in kube context ${context}`, {
      hint: request.approach === "manual" ? "run the manual approach's step 3 (manual/03-cert-manager/ca-chain.yaml)" : `is tenant ${request.tenant} deployed (make gitops-install)?`,
    });
  }
  const name = certificateName(request.name);
  await request.kube.apply(
    [
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "korthweb", "korthweb/modality": request.name } },
        spec: {
          secretName: name,
          commonName: request.name,
          duration: `${request.days * 24}h`,
          privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
          usages: ["client auth", "digital signature"],
          issuerRef: { name: "orthanc-modality-ca", kind: "Issuer", group: "cert-manager.io" },
        },
      },
    ],
    `Certificate ${namespace}/${name}`,
  );
  await waitForCondition(request.kube, "certificate.cert-manager.io", name, namespace, request.settings.timeoutSeconds);
  const keys = await secretKeys(request.kube, namespace, name, ["tls.crt", "tls.key", "ca.crt"], () => new TaskError(`Secret ${namespace}/${name} lacks tls.crt, tls.key or ca.crt after cert-manager issued it`));
  const server = await secretKeys(request.kube, namespace, "orthanc-tls", ["ca.crt"], () => new TaskError(`Secret ${namespace}/orthanc-tls has no ca.crt (the gateway certificate's CA)`));
  return {
    client: { cert: keys["tls.crt"]!, key: keys["tls.key"]! },
    modalityCa: keys["ca.crt"]!,
    serverCa: server["ca.crt"]!,
    source: `cert-manager Certificate ${namespace}/${name} (Issuer orthanc-modality-ca) in kube context ${context}`,
  };
}

export function issue(request: IssueRequest): Promise<Issued> {
  switch (request.approach) {
    case "local":
      return fromLocal(request);
    case "helm":
      return fromHelm(request);
    case "manual":
    case "gitops":
      return fromCertManager({ ...request, approach: request.approach });
  }
}
