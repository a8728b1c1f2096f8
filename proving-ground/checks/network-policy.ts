// Which TCP connections Kubernetes NetworkPolicies allow among a set of pods
// and the outside world, computed from the objects the way the API defines
// them: a connection needs the destination's ingress side (no policy of type
// Ingress selects it, or one of their rules admits the source and port) and
// the source's egress side (the same, for Egress) to allow it. Like
// istio-authorization.ts it returns flows "source -> destination:port" for
// exact comparison, and throws on what it does not model rather than guess.
import { TaskError } from "../../tasks/lib/errors.ts";
import { describeObject, type KubeObject } from "../../tasks/lib/manifests.ts";
import { record, text } from "../../tasks/lib/values.ts";

/** A pod as policies see it: where it runs, its labels, the TCP ports it listens on (none: a client only). */
export interface Pod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: number[];
}

/** Labels of each namespace (kubernetes.io/metadata.name is added: the API server sets it on every namespace). */
export type NamespaceLabels = ReadonlyMap<string, Record<string, string>>;

const outside = "outside";
type Endpoint = Pod | typeof outside;

function unsupported(policy: KubeObject, what: string): TaskError {
  return new TaskError(`${describeObject(policy)}: ${what} is not modelled by proving-ground/checks/network-policy.ts`, {
    hint: "extend the evaluator (and its tests) before using it, so the flow check stays exact",
  });
}

function checkKeys(policy: KubeObject, value: unknown, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(record(value))) if (!allowed.includes(key)) throw unsupported(policy, `${where}.${key}`);
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** A label selector (matchLabels, matchExpressions) against labels; {} selects everything. */
function selects(policy: KubeObject, selector: unknown, labels: Record<string, string>): boolean {
  checkKeys(policy, selector, ["matchLabels", "matchExpressions"], "labelSelector");
  const wanted = record(record(selector).matchLabels);
  if (!Object.entries(wanted).every(([key, value]) => labels[key] === value)) return false;
  return list(record(selector).matchExpressions).every((item) => {
    const { key, operator, values } = record(item) as { key?: string; operator?: string; values?: unknown };
    const has = key !== undefined && key in labels;
    const among = has && list(values).includes(labels[key!]);
    if (operator === "In") return among;
    if (operator === "NotIn") return !among;
    if (operator === "Exists") return has;
    if (operator === "DoesNotExist") return !has;
    throw unsupported(policy, `matchExpressions operator ${String(operator)}`);
  });
}

function namespaceLabels(namespaces: NamespaceLabels, name: string): Record<string, string> {
  return { ...(namespaces.get(name) ?? {}), "kubernetes.io/metadata.name": name };
}

/** A from/to peer. An ipBlock stands for addresses outside the cluster: no modelled pod has an address in one. */
function peerMatches(policy: KubeObject, peer: unknown, endpoint: Endpoint, namespaces: NamespaceLabels): boolean {
  checkKeys(policy, peer, ["podSelector", "namespaceSelector", "ipBlock"], "peer");
  const { podSelector, namespaceSelector, ipBlock } = record(peer);
  if (ipBlock !== undefined) return endpoint === outside;
  if (endpoint === outside) return false;
  const inNamespace = namespaceSelector === undefined ? endpoint.namespace === policy.metadata?.namespace : selects(policy, namespaceSelector, namespaceLabels(namespaces, endpoint.namespace));
  return inNamespace && (podSelector === undefined || selects(policy, podSelector, endpoint.labels));
}

function portMatches(policy: KubeObject, ports: unknown, port: number): boolean {
  if (list(ports).length === 0) return true;
  return list(ports).some((item) => {
    checkKeys(policy, item, ["port", "protocol", "endPort"], "ports[]");
    const { port: from, protocol, endPort } = record(item);
    if ((text(protocol) ?? "TCP") !== "TCP") return false;
    if (from === undefined) return true;
    if (typeof from !== "number") throw unsupported(policy, `named port ${String(from)}`);
    return typeof endPort === "number" ? port >= from && port <= endPort : port === from;
  });
}

function typesOf(policy: KubeObject): string[] {
  const spec = record(policy.spec);
  return Array.isArray(spec.policyTypes) ? spec.policyTypes.map(String) : ["Ingress", ...(spec.egress !== undefined ? ["Egress"] : [])];
}

/** Does the `direction` side of `pod` allow the connection with `peer` on `port`? */
function sideAllows(policies: readonly KubeObject[], direction: "Ingress" | "Egress", pod: Pod, peer: Endpoint, port: number, namespaces: NamespaceLabels): boolean {
  const selecting = policies.filter((policy) => {
    checkKeys(policy, policy.spec, ["podSelector", "policyTypes", "ingress", "egress"], "spec");
    return policy.metadata?.namespace === pod.namespace && typesOf(policy).includes(direction) && selects(policy, record(policy.spec).podSelector ?? {}, pod.labels);
  });
  if (selecting.length === 0) return true;
  const [rulesKey, peersKey] = direction === "Ingress" ? ["ingress", "from"] : ["egress", "to"];
  return selecting.some((policy) =>
    list(record(policy.spec)[rulesKey]).some((rule) => {
      checkKeys(policy, rule, [peersKey, "ports"], `${rulesKey}[]`);
      const peers = list(record(rule)[peersKey]);
      return (peers.length === 0 || peers.some((item) => peerMatches(policy, item, peer, namespaces))) && portMatches(policy, record(rule).ports, port);
    }),
  );
}

/** Whether `source` may open a TCP connection to `destination` on `port`. */
export function connectionAllowed(policies: readonly KubeObject[], source: Endpoint, destination: Pod, port: number, namespaces: NamespaceLabels = new Map()): boolean {
  const ingress = sideAllows(policies, "Ingress", destination, source, port, namespaces);
  return ingress && (source === outside || sideAllows(policies, "Egress", source, destination, port, namespaces));
}

/** Ports worth asking about for a pod: the ones it listens on and any an ingress rule of a policy in its namespace names. */
function candidatePorts(policies: readonly KubeObject[], pod: Pod): number[] {
  const ports = new Set(pod.ports);
  for (const policy of policies.filter((p) => p.metadata?.namespace === pod.namespace)) {
    for (const rule of list(record(policy.spec).ingress)) for (const item of list(record(rule).ports)) if (typeof record(item).port === "number") ports.add(record(item).port as number);
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * Every allowed connection among `pods` (each a client; those with ports also a destination) and the
 * outside world, as "source -> destination:port"; "*" as source when every client may.
 */
export function networkFlows(policies: readonly KubeObject[], pods: readonly Pod[], namespaces: NamespaceLabels = new Map()): string[] {
  const networkPolicies = policies.filter((policy) => policy.kind === "NetworkPolicy");
  const clients: Endpoint[] = [outside, ...pods];
  const flows: string[] = [];
  for (const destination of pods.filter((pod) => pod.ports.length > 0)) {
    for (const port of candidatePorts(networkPolicies, destination)) {
      const allowed = clients.filter((client) => client !== destination && connectionAllowed(networkPolicies, client, destination, port, namespaces));
      if (allowed.length === clients.length - 1) flows.push(`* -> ${destination.name}:${port}`);
      else for (const client of allowed) flows.push(`${client === outside ? outside : client.name} -> ${destination.name}:${port}`);
    }
  }
  return flows;
}

/** Labels of every Namespace object among `objects`. */
export const namespaceLabelsOf = (objects: readonly KubeObject[]): NamespaceLabels =>
  new Map(objects.filter((o) => o.apiVersion === "v1" && o.kind === "Namespace").map((o) => [String(o.metadata?.name), (record(o.metadata?.labels) as Record<string, string>)]));
