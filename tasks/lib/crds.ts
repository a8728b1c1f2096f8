// The CustomResourceDefinition an object needs: "<plural>.<group>", e.g.
// networking.istio.io/v1 Gateway → gateways.networking.istio.io. Built-in
// Kubernetes groups need none.
import type { KubeObject } from "./manifests.ts";

/** Groups served by Kubernetes itself (core "", *.k8s.io, and the classic unsuffixed ones). */
const builtInGroup = (group: string) =>
  group === "" || group.endsWith(".k8s.io") || ["apps", "batch", "autoscaling", "policy", "extensions"].includes(group);

/** Kubernetes' default plural: lowercase, y → ies, s/x/ch/sh → es, else + s. */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(lower)) return `${lower}es`;
  return `${lower}s`;
}

export function crdNameOf(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  return builtInGroup(group) ? undefined : `${pluralOf(kind)}.${group}`;
}

/** The CRDs a set of objects needs, sorted, without duplicates. */
export function crdsOf(objects: readonly KubeObject[]): string[] {
  const names = new Set<string>();
  for (const object of objects) {
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") continue;
    const name = crdNameOf(object.apiVersion, object.kind);
    if (name) names.add(name);
  }
  return [...names].sort();
}
