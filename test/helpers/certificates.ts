// A rule both Istio approaches share: a CA Certificate keeps its private key
// on renewal. With cert-manager's default (rotationPolicy Always) a renewed CA
// gets a new key, and every leaf it signed stops verifying against the new
// ca.crt (and clients holding the old one reject new leaves) until each leaf
// is re-issued.
import type { KubeObject } from "../../tasks/lib/manifests.ts";

const record = (value: unknown): Record<string, unknown> => (value && typeof value === "object" ? (value as Record<string, unknown>) : {});

/** Problems of CA Certificates whose key would rotate on renewal; [] when every CA keeps its key. */
export function caKeyProblems(objects: readonly KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === "Certificate" && record(o.spec).isCA === true)
    .filter((o) => record(record(o.spec).privateKey).rotationPolicy !== "Never")
    .map((o) => `Certificate ${String(o.metadata?.namespace)}/${String(o.metadata?.name)}: a CA whose privateKey.rotationPolicy is not Never gets a new key at each renewal`);
}
