// Consistency checks over the manual approach's objects, each returning the
// problems it finds (so tests can assert both "none" on the committed files
// and "this one" on broken copies).
import type { KubeObject } from "../../tasks/lib/manifests.ts";

const id = (o: KubeObject) => `${String(o.kind)} ${o.metadata?.namespace ? `${String(o.metadata.namespace)}/` : ""}${String(o.metadata?.name)}`;
const spec = (o: KubeObject): any => o.spec ?? {};

export interface GatewayDeployment {
  namespace: string;
  /** istiod runs with PILOT_SCOPE_GATEWAY_TO_NAMESPACE: a Gateway only configures gateway pods of its own namespace. */
  scopedGateways: boolean;
  /** Pod labels of the gateway workload. */
  labels: Record<string, string>;
  /** Service ports: port → targetPort. */
  servicePorts: { port: number; targetPort: number }[];
}

/** Gateways select the gateway workload, which exposes each server port; VirtualServices reach real Services. */
export function routingProblems(objects: readonly KubeObject[], gateway: GatewayDeployment): string[] {
  const problems: string[] = [];
  const gateways = objects.filter((o) => o.kind === "Gateway");
  const services = objects.filter((o) => o.kind === "Service");
  for (const gw of gateways) {
    if (gateway.scopedGateways && gw.metadata?.namespace !== gateway.namespace) {
      problems.push(`${id(gw)}: not in the gateway's namespace ${gateway.namespace}, so istiod (gateways scoped to their namespace) applies it to no pod`);
    }
    for (const [key, value] of Object.entries(spec(gw).selector ?? {})) {
      if (gateway.labels[key] !== value) problems.push(`${id(gw)}: selector ${key}=${String(value)} matches no gateway pod label`);
    }
    for (const server of spec(gw).servers ?? []) {
      const port = server.port?.number;
      const exposed = gateway.servicePorts.find((p) => p.port === port);
      if (!exposed) problems.push(`${id(gw)}: port ${port} is not on the gateway Service`);
      else if (exposed.targetPort !== port) problems.push(`${id(gw)}: port ${port} reaches the gateway pod on ${exposed.targetPort}, where no server listens`);
    }
  }
  for (const vs of objects.filter((o) => o.kind === "VirtualService")) {
    const ns = String(vs.metadata?.namespace);
    const attached = (spec(vs).gateways ?? []).map((ref: string) => (ref.includes("/") ? ref : `${ns}/${ref}`));
    const targets = gateways.filter((gw) => attached.includes(`${String(gw.metadata?.namespace)}/${String(gw.metadata?.name)}`));
    if (targets.length !== attached.length) problems.push(`${id(vs)}: gateways ${attached.join(", ")} not all defined`);
    const serverPorts = targets.flatMap((gw) => (spec(gw).servers ?? []).map((s: any) => s.port?.number));
    const routes = [...(spec(vs).http ?? []), ...(spec(vs).tcp ?? []), ...(spec(vs).tls ?? [])];
    if (routes.length === 0) problems.push(`${id(vs)}: no routes`);
    for (const route of spec(vs).tcp ?? []) {
      for (const match of route.match ?? []) if (!serverPorts.includes(match.port)) problems.push(`${id(vs)}: tcp match on port ${match.port}, which no attached Gateway serves`);
    }
    for (const route of routes) {
      for (const { destination } of route.route ?? []) {
        const [name, namespace = ns] = String(destination.host).replace(/\.svc\.cluster\.local$/, "").split(".");
        const service = services.find((s) => s.metadata?.name === name && s.metadata?.namespace === namespace);
        if (!service) {
          problems.push(`${id(vs)}: destination ${destination.host} is not a Service in the manifests`);
          continue;
        }
        const port = destination.port?.number;
        if (!spec(service).ports?.some((p: any) => p.port === port)) problems.push(`${id(vs)}: Service ${namespace}/${name} has no port ${port}`);
      }
    }
  }
  return problems;
}

/** Every issuerRef and Secret reference of the certificate chain resolves, and the gateway's credential is issued for its hosts. */
export function certificateProblems(objects: readonly KubeObject[], options: { clusterResourceNamespace: string; gatewayNamespace: string; hostnames: string[] }): string[] {
  const problems: string[] = [];
  const certificates = objects.filter((o) => o.kind === "Certificate");
  const issuers = objects.filter((o) => o.kind === "Issuer" || o.kind === "ClusterIssuer");
  const issuedSecret = (namespace: string, secretName: string) =>
    certificates.find((c) => c.metadata?.namespace === namespace && spec(c).secretName === secretName);
  for (const cert of certificates) {
    const ref = spec(cert).issuerRef ?? {};
    const kind = ref.kind ?? "Issuer";
    const issuer = issuers.find((i) => i.kind === kind && i.metadata?.name === ref.name && (kind === "ClusterIssuer" || i.metadata?.namespace === cert.metadata?.namespace));
    if (!issuer) problems.push(`${id(cert)}: issuerRef ${kind} ${String(ref.name)} is not defined`);
    if (ref.group && ref.group !== "cert-manager.io") problems.push(`${id(cert)}: issuerRef group ${String(ref.group)}`);
  }
  for (const issuer of issuers) {
    const ca = spec(issuer).ca;
    if (!ca) continue;
    const namespace = issuer.kind === "ClusterIssuer" ? options.clusterResourceNamespace : String(issuer.metadata?.namespace);
    const source = issuedSecret(namespace, ca.secretName);
    if (!source) problems.push(`${id(issuer)}: CA Secret ${namespace}/${String(ca.secretName)} is issued by no Certificate`);
    else if (spec(source).isCA !== true) problems.push(`${id(issuer)}: ${id(source)} is not a CA (isCA)`);
  }
  for (const gw of objects.filter((o) => o.kind === "Gateway")) {
    for (const server of spec(gw).servers ?? []) {
      const credential = server.tls?.credentialName;
      if (!credential) continue;
      const cert = issuedSecret(options.gatewayNamespace, credential);
      if (!cert) {
        problems.push(`${id(gw)}: credentialName ${credential} is issued by no Certificate in ${options.gatewayNamespace}`);
        continue;
      }
      if (spec(cert).isCA) problems.push(`${id(gw)}: serves a CA certificate`);
      const names: string[] = spec(cert).dnsNames ?? [];
      for (const host of server.hosts ?? []) if (host !== "*" && !names.includes(host)) problems.push(`${id(gw)}: host ${host} is not in ${id(cert)}`);
      for (const host of options.hostnames) if (!names.includes(host)) problems.push(`${id(cert)}: lacks ${host}`);
    }
  }
  return problems;
}
