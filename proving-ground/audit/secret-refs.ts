// Which Secrets our objects read, and which Secrets something creates, so the
// audit can say "this Secret is read but nothing creates it". Readers: pod
// specs (env, envFrom, volumes, image pull), ServiceMonitor auth, Istio
// Gateway credentials, Traefik TLS, cert-manager CA issuers, Flux sources and
// HelmRelease valuesFrom, and `existingSecret` keys in chart values. Creators:
// Secret objects, cert-manager Certificates, and the tasks (declared by each
// approach).
import type { KubeObject } from "../../tasks/lib/manifests.ts";

export interface SecretRef {
  namespace: string;
  name: string;
  /** Who reads it: "Deployment orthanc/orthanc env ORTHANC_PASSWORD". */
  by: string;
}

type Json = Record<string, unknown>;
const record = (value: unknown): Json => (value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {});
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.map(record) : []);
const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

const podSpecOf = (object: KubeObject): Json | undefined => {
  const spec = record(object.spec);
  switch (object.kind) {
    case "Pod":
      return spec;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return record(record(spec.template).spec);
    case "CronJob":
      return record(record(record(record(spec.jobTemplate).spec).template).spec);
    default:
      return undefined;
  }
};

/** cert-manager reads a ClusterIssuer's CA Secret from its "cluster resource namespace". */
export const certManagerClusterResourceNamespace = "cert-manager";

/** Every Secret the object reads (optional references excluded). */
export function secretReferences(object: KubeObject): SecretRef[] {
  const namespace = text(object.metadata?.namespace) ?? "default";
  const self = `${String(object.kind)} ${namespace}/${String(object.metadata?.name)}`;
  const refs: SecretRef[] = [];
  const add = (name: unknown, by: string, ns = namespace) => {
    const value = text(name);
    if (value) refs.push({ namespace: ns, name: value, by: `${self} ${by}` });
  };
  const spec = record(object.spec);

  const pod = podSpecOf(object);
  if (pod) {
    for (const container of [...list(pod.initContainers), ...list(pod.containers)]) {
      for (const env of list(container.env)) {
        const ref = record(record(env.valueFrom).secretKeyRef);
        if (ref.optional !== true) add(ref.name, `env ${String(env.name)}`);
      }
      for (const from of list(container.envFrom)) {
        const ref = record(from.secretRef);
        if (ref.optional !== true) add(ref.name, "envFrom");
      }
    }
    for (const volume of list(pod.volumes)) {
      const secret = record(volume.secret);
      if (secret.optional !== true) add(secret.secretName, `volume ${String(volume.name)}`);
      for (const source of list(record(volume.projected).sources)) {
        const projected = record(source.secret);
        if (projected.optional !== true) add(projected.name, `projected volume ${String(volume.name)}`);
      }
    }
    for (const pull of list(pod.imagePullSecrets)) add(pull.name, "imagePullSecrets");
  }

  switch (object.kind) {
    case "ServiceMonitor":
    case "PodMonitor":
      for (const endpoint of [...list(spec.endpoints), ...list(spec.podMetricsEndpoints)]) {
        const auth = record(endpoint.basicAuth);
        add(record(auth.username).name, "basicAuth username");
        add(record(auth.password).name, "basicAuth password");
        const tls = record(endpoint.tlsConfig);
        add(record(record(tls.ca).secret).name, "tlsConfig ca");
        add(record(record(tls.cert).secret).name, "tlsConfig cert");
        add(record(tls.keySecret).name, "tlsConfig key");
      }
      break;
    case "Gateway":
      // Istio reads credentialName in the gateway workload's namespace; our Gateways live there.
      for (const server of list(spec.servers)) add(record(server.tls).credentialName, `server ${String(record(server.port).number)} credentialName`);
      break;
    case "IngressRoute":
    case "IngressRouteTCP":
      add(record(spec.tls).secretName, "tls.secretName");
      break;
    case "TLSStore":
      add(record(spec.defaultCertificate).secretName, "defaultCertificate");
      for (const certificate of list(spec.certificates)) add(certificate.secretName, "certificates");
      break;
    case "Issuer":
      add(record(spec.ca).secretName, "ca.secretName");
      break;
    case "ClusterIssuer":
      add(record(spec.ca).secretName, "ca.secretName", certManagerClusterResourceNamespace);
      break;
    case "GitRepository":
    case "OCIRepository":
    case "HelmRepository":
      add(record(spec.secretRef).name, "secretRef");
      break;
    case "Kustomization":
      add(record(record(spec.decryption).secretRef).name, "decryption.secretRef");
      add(record(record(spec.kubeConfig).secretRef).name, "kubeConfig.secretRef");
      break;
    case "HelmRelease": {
      for (const from of list(spec.valuesFrom)) if (from.kind === "Secret" && from.optional !== true) add(from.name, "valuesFrom");
      const target = text(spec.targetNamespace) ?? namespace;
      for (const ref of existingSecretsInValues(spec.values, target)) refs.push({ ...ref, by: `${self} ${ref.by}` });
      break;
    }
  }
  return refs;
}

/** `existingSecret: name` keys anywhere in chart values: the convention of bitnami and Grafana charts. */
export function existingSecretsInValues(values: unknown, namespace: string, path = "values"): SecretRef[] {
  if (Array.isArray(values)) return values.flatMap((item, i) => existingSecretsInValues(item, namespace, `${path}[${i}]`));
  if (!values || typeof values !== "object") return [];
  return Object.entries(values as Json).flatMap(([key, value]) => {
    const here = `${path}.${key}`;
    if (key === "existingSecret" && text(value)) return [{ namespace, name: value as string, by: here }];
    return existingSecretsInValues(value, namespace, here);
  });
}

/** Secrets the objects themselves create: Secret objects and cert-manager Certificates. */
export function createdSecrets(objects: readonly KubeObject[]): Set<string> {
  const created = new Set<string>();
  for (const object of objects) {
    const namespace = text(object.metadata?.namespace) ?? "default";
    if (object.kind === "Secret") created.add(`${namespace}/${String(object.metadata?.name)}`);
    if (object.kind === "Certificate" && text(record(object.spec).secretName)) created.add(`${namespace}/${String(record(object.spec).secretName)}`);
  }
  return created;
}
