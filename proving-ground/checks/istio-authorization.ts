// What Istio AuthorizationPolicies allow, computed from the YAML the way Istio
// evaluates them: per destination workload, DENY policies first, then, if any
// ALLOW policy applies, the request must match one of its rules. The result is
// a list of flows "source -> destination:port [methods paths]" that each
// approach's checks compare with its intended set (manual: proving-ground/checks/manual/flows.ts;
// gitops: proving-ground/checks/gitops/mesh-check.ts). Policy features this evaluator does not
// model make it throw rather than guess.
import { TaskError } from "../../tasks/lib/errors.ts";
import { describeObject, parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";

/** Istio's default root namespace: a policy there applies to every workload of the mesh. */
export const defaultRootNamespace = "istio-system";

/** A workload with a sidecar (or a gateway): who it is, how policies select it, where it receives traffic. */
export interface MeshWorkload {
  /** Short name used in flow descriptions. */
  name: string;
  namespace: string;
  serviceAccount: string;
  /** Pod labels (a subset is enough for selectors). */
  labels: Record<string, string>;
  /** Ports its proxy receives traffic on; empty when inbound traffic bypasses the proxy (a caller only). */
  ports: number[];
}

/** The SPIFFE identity mTLS gives a workload: its service account, in the default trust domain. */
export const principal = (workload: Pick<MeshWorkload, "namespace" | "serviceAccount">) =>
  `cluster.local/ns/${workload.namespace}/sa/${workload.serviceAccount}`;

interface Source {
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
}
interface Operation {
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  paths?: string[];
}
interface Rule {
  from?: { source?: Source }[];
  to?: { operation?: Operation }[];
  when?: unknown[];
}
interface PolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  action?: string;
  rules?: Rule[];
}

/** A caller: a mesh workload, or a client without a mesh identity (the outside world). */
export interface Caller {
  name: string;
  principal?: string;
  namespace?: string;
}

const supported = {
  spec: ["selector", "action", "rules"],
  rule: ["from", "to", "when"],
  source: ["principals", "notPrincipals", "namespaces", "notNamespaces"],
  operation: ["ports", "notPorts", "methods", "paths"],
};

function unsupported(policy: KubeObject, what: string): TaskError {
  return new TaskError(`${describeObject(policy)}: ${what} is not modelled by proving-ground/checks/istio-authorization.ts`, {
    hint: "extend the evaluator (and its tests) before using it, so the flow check stays exact",
  });
}

function checkKeys(policy: KubeObject, value: object | undefined, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value ?? {})) if (!allowed.includes(key)) throw unsupported(policy, `${where}.${key}`);
}

const specOf = (policy: KubeObject) => (policy.spec ?? {}) as PolicySpec;

/** Istio string match: exact, "*", "prefix*" or "*suffix". */
export function matchesValue(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === "*") return true;
  if (pattern.endsWith("*")) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith("*")) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

const anyMatch = (patterns: string[] | undefined, value: string | undefined) => patterns === undefined || patterns.some((p) => matchesValue(p, value));
const noneMatch = (patterns: string[] | undefined, value: string | undefined) => patterns === undefined || !patterns.some((p) => matchesValue(p, value));

function sourceMatches(source: Source, caller: Caller): boolean {
  return anyMatch(source.principals, caller.principal) && noneMatch(source.notPrincipals, caller.principal) &&
    anyMatch(source.namespaces, caller.namespace) && noneMatch(source.notNamespaces, caller.namespace);
}

function portMatches(operation: Operation, port: number): boolean {
  return anyMatch(operation.ports, String(port)) && noneMatch(operation.notPorts, String(port));
}

/** "" when the operation allows any request on the port, else its method/path restriction. */
const restriction = (operation: Operation) => [operation.methods?.join("|"), operation.paths?.join("|")].filter(Boolean).join(" ");

/**
 * How a rule treats (caller, port): undefined = does not match; "" = matches
 * every request; otherwise the restriction under which it matches.
 */
function ruleMatch(policy: KubeObject, rule: Rule, caller: Caller, port: number): string[] | undefined {
  checkKeys(policy, rule, supported.rule, "rules[]");
  if (rule.when !== undefined) throw unsupported(policy, "rules[].when");
  for (const from of rule.from ?? []) checkKeys(policy, from.source, supported.source, "rules[].from[].source");
  for (const to of rule.to ?? []) checkKeys(policy, to.operation, supported.operation, "rules[].to[].operation");
  if (rule.from && !rule.from.some((from) => sourceMatches(from.source ?? {}, caller))) return undefined;
  if (!rule.to) return [""];
  const restrictions = rule.to.filter((to) => portMatches(to.operation ?? {}, port)).map((to) => restriction(to.operation ?? {}));
  return restrictions.length > 0 ? restrictions : undefined;
}

function appliesTo(policy: KubeObject, workload: MeshWorkload, rootNamespace: string): boolean {
  const namespace = policy.metadata?.namespace;
  if (namespace !== rootNamespace && namespace !== workload.namespace) return false;
  const wanted = specOf(policy).selector?.matchLabels ?? {};
  return Object.entries(wanted).every(([key, value]) => workload.labels[key] === value);
}

/** Ports worth asking about for a workload: the ones it serves and any a policy names. */
function candidatePorts(policies: readonly KubeObject[], workload: MeshWorkload): number[] {
  const ports = new Set(workload.ports);
  for (const policy of policies) {
    for (const rule of specOf(policy).rules ?? []) {
      for (const to of rule.to ?? []) for (const port of [...(to.operation?.ports ?? []), ...(to.operation?.notPorts ?? [])]) ports.add(Number(port));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Restrictions under which `caller` may reach `workload` on `port`; [] = denied, [""] = anything. */
export function allowedRequests(policies: readonly KubeObject[], workload: MeshWorkload, caller: Caller, port: number, rootNamespace = defaultRootNamespace): string[] {
  const applicable = policies.filter((policy) => appliesTo(policy, workload, rootNamespace));
  const byAction = (action: string) => applicable.filter((policy) => (specOf(policy).action ?? "ALLOW") === action);
  for (const policy of applicable) {
    checkKeys(policy, policy.spec as object, supported.spec, "spec");
    const action = specOf(policy).action ?? "ALLOW";
    if (!["ALLOW", "DENY", "AUDIT"].includes(action)) throw unsupported(policy, `action ${action}`);
  }
  for (const policy of byAction("DENY")) {
    for (const rule of specOf(policy).rules ?? []) {
      const match = ruleMatch(policy, rule, caller, port);
      if (match?.includes("")) return [];
      if (match) throw unsupported(policy, "a DENY rule limited to methods or paths");
    }
  }
  const allows = byAction("ALLOW");
  if (allows.length === 0) return [""];
  const found = new Set<string>();
  for (const policy of allows) {
    for (const rule of specOf(policy).rules ?? []) for (const r of ruleMatch(policy, rule, caller, port) ?? []) found.add(r);
  }
  return found.has("") ? [""] : [...found].sort();
}

export const outsideWorld: Caller = { name: "outside" };

const callerOf = (workload: MeshWorkload): Caller => ({ name: workload.name, principal: principal(workload), namespace: workload.namespace });

/**
 * Every allowed flow among `workloads` (each a caller; those with ports also a destination) and the
 * outside world, as "source -> destination:port[ restriction]"; "*" as source when every caller may.
 */
export function allowedFlows(policies: readonly KubeObject[], workloads: readonly MeshWorkload[], rootNamespace = defaultRootNamespace): string[] {
  const callers = [outsideWorld, ...workloads.map(callerOf)];
  const flows: string[] = [];
  for (const destination of workloads.filter((workload) => workload.ports.length > 0)) {
    for (const port of candidatePorts(policies, destination)) {
      const byCaller = new Map(callers.map((caller) => [caller.name, allowedRequests(policies, destination, caller, port, rootNamespace)]));
      const everyone = [...byCaller.values()].every((r) => r.includes(""));
      if (everyone) {
        flows.push(`* -> ${destination.name}:${port}`);
        continue;
      }
      for (const [name, restrictions] of byCaller) {
        for (const r of restrictions) flows.push(`${name} -> ${destination.name}:${port}${r ? ` ${r}` : ""}`);
      }
    }
  }
  return flows;
}

export const authorizationPolicies = (text: string, source: string): KubeObject[] =>
  parseManifests(text, source).map((item) => item.object).filter((object) => object.kind === "AuthorizationPolicy");
