// The "mesh" check of `make gitops-check`: what the tenants' traffic policies
// really allow. On the rendered tree plus each tenant's Orthanc render:
// sidecar injection in each tenant's application namespace; mutual TLS STRICT
// mesh-wide with no weaker exception; an allow-nothing AuthorizationPolicy and
// a default-deny NetworkPolicy in every tenant namespace; and, evaluated the
// way Istio and Kubernetes do (proving-ground/checks/istio-authorization.ts,
// proving-ground/checks/network-policy.ts), exactly the intended flows among the modelled
// workloads (mesh.ts) — nothing cross-tenant, nothing namespace-wide.
import { allowedFlows, defaultRootNamespace } from "../istio-authorization.ts";
import type { KubeObject } from "../../../tasks/lib/manifests.ts";
import { namespaceLabelsOf, networkFlows } from "../network-policy.ts";
import { record, text } from "../../../tasks/lib/values.ts";
import type { Problem } from "./checks.ts";
import { describeRef, gitopsMesh, intendedFlows, intendedNetworkFlows, meshWorkloadsOf, objectsOfKind, type GitopsMesh } from "./mesh.ts";
import { namespaceOf, type FluxTree } from "../../../tasks/gitops/tree.ts";

type Add = (subject: string, message: string) => void;

/** Istio injects a pod when its namespace (or the pod) asks and neither says disabled. */
function checkInjection(tree: FluxTree, renders: ReadonlyMap<string, readonly KubeObject[]>, mesh: GitopsMesh, add: Add): void {
  const labels = namespaceLabelsOf(tree.objects);
  for (const tenant of mesh.tenants) {
    for (const namespace of [...new Set(tenant.others.map((w) => w.namespace))]) {
      if (labels.get(namespace)?.["istio-injection"] === "disabled") add(`tenant ${tenant.tenant}`, `namespace ${namespace} has istio-injection=disabled: its pods get no proxy, so no mTLS or policy covers them`);
    }
    const appNamespace = tenant.orthanc.namespace;
    const own = labels.get(appNamespace) ?? {};
    if (own["istio-injection"] !== "enabled" && !own["istio.io/rev"]) add(`tenant ${tenant.tenant}`, `namespace ${appNamespace} is not labelled for sidecar injection (istio-injection=enabled): Orthanc and PostgreSQL would run without a proxy`);
    for (const deployment of (renders.get(tenant.tenant) ?? []).filter((o) => o.kind === "Deployment")) {
      const metadata = record(record(record(deployment.spec).template).metadata);
      const optOut = [record(metadata.labels), record(metadata.annotations)].some((map) => text(map["sidecar.istio.io/inject"]) === "false");
      if (optOut) add(`tenant ${tenant.tenant}`, `${describeRef(deployment)} opts out of sidecar injection`);
    }
  }
}

/** One PeerAuthentication in the root namespace, no selector, STRICT; nothing anywhere weaker. */
function checkStrictMtls(peerAuthentications: readonly KubeObject[], add: Add): void {
  const meshWide = peerAuthentications.filter((pa) => namespaceOf(pa) === defaultRootNamespace && record(pa.spec).selector === undefined);
  if (meshWide.length !== 1) add("PeerAuthentication", `${meshWide.length} mesh-wide PeerAuthentications in ${defaultRootNamespace} (no selector); needs exactly one, STRICT`);
  for (const pa of peerAuthentications) {
    const mode = record(record(pa.spec).mtls).mode;
    // Unset means "inherit" below the mesh-wide policy, and PERMISSIVE (Istio's default) on it.
    const modes = [meshWide.includes(pa) ? (mode ?? "PERMISSIVE (unset)") : mode, ...Object.values(record(record(pa.spec).portLevelMtls)).map((port) => record(port).mode)];
    const weaker = modes.filter((m) => m !== undefined && m !== "STRICT");
    if (weaker.length > 0) add(describeRef(pa), `mTLS mode ${weaker.map(String).join(", ")}: plain-text traffic would reach sidecars`);
  }
}

/** Every tenant namespace denies by default: an allow-nothing AuthorizationPolicy and a NetworkPolicy selecting every pod, both directions, no rule. */
function checkDenyByDefault(tree: FluxTree, policies: readonly KubeObject[], networkPolicies: readonly KubeObject[], add: Add): void {
  for (const tenant of tree.tenants) {
    for (const namespace of tenant.namespaces) {
      const allowNothing = policies.some((p) => {
        const spec = record(p.spec);
        return namespaceOf(p) === namespace && spec.selector === undefined && (spec.action ?? "ALLOW") === "ALLOW" && (!Array.isArray(spec.rules) || spec.rules.length === 0);
      });
      if (!allowNothing) add(`tenant ${tenant.name}`, `no allow-nothing AuthorizationPolicy (ALLOW, no selector, no rule) in ${namespace}: a workload no other policy selects would accept anyone`);
      const defaultDeny = networkPolicies.some((p) => {
        const spec = record(p.spec);
        const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
        return namespaceOf(p) === namespace && Object.keys(record(spec.podSelector)).length === 0 && types.includes("Ingress") && types.includes("Egress") &&
          spec.ingress === undefined && spec.egress === undefined;
      });
      if (!defaultDeny) add(`tenant ${tenant.name}`, `no default-deny NetworkPolicy (every pod, Ingress and Egress, no rule) in ${namespace}`);
    }
  }
}

/** Flows allowed but not intended, and intended but not allowed. */
function compareFlows(subject: string, allowed: readonly string[], intended: readonly string[], add: Add): void {
  for (const flow of allowed.filter((f) => !intended.includes(f))) add(subject, `allow ${flow}, which is not an intended flow`);
  for (const flow of intended.filter((f) => !allowed.includes(f))) add(subject, `do not allow ${flow}, which is needed`);
}

export function checkMesh(tree: FluxTree, renders: ReadonlyMap<string, readonly KubeObject[]>): Problem[] {
  const problems: Problem[] = [];
  const add: Add = (subject, message) => problems.push({ check: "mesh", subject, message });
  const mesh = gitopsMesh(tree, renders);
  for (const problem of mesh.problems) add("mesh model", problem);
  const authorizationPolicies = objectsOfKind(tree, renders, "AuthorizationPolicy");
  const networkPolicies = objectsOfKind(tree, renders, "NetworkPolicy");
  checkInjection(tree, renders, mesh, add);
  checkStrictMtls(objectsOfKind(tree, renders, "PeerAuthentication"), add);
  checkDenyByDefault(tree, authorizationPolicies, networkPolicies, add);
  const workloads = meshWorkloadsOf(mesh);
  try {
    compareFlows("AuthorizationPolicies", allowedFlows(authorizationPolicies, workloads, defaultRootNamespace), intendedFlows(mesh), add);
  } catch (error) {
    add("AuthorizationPolicies", (error as Error).message);
  }
  try {
    compareFlows("NetworkPolicies", networkFlows(networkPolicies, workloads, namespaceLabelsOf(tree.objects)), intendedNetworkFlows(mesh), add);
  } catch (error) {
    add("NetworkPolicies", (error as Error).message);
  }
  return problems;
}
