// Looks up the kubernetes-models class for an apiVersion/kind among the served
// APIs: crds.ts turns their validators into the CRDs of the simulated cluster,
// whose schemas kubeconform also reads (proving-ground/validate/kube-schemas.ts).
// kubernetes-models has no lookup by kind, so we build one from the exports.
import { servedApis } from "../../tasks/lib/api-versions.ts";

/** A kubernetes-models class: its validator is what proving-ground/cluster/crds.ts turns into CRD schemas. */
export type ModelClass = { prototype: { validate(): void }; apiVersion: string; kind: string };

export type Registry = Map<string, ModelClass>;

const key = (apiVersion: string, kind: string) => `${apiVersion} ${kind}`;

const isModelClass = (value: unknown): value is ModelClass =>
  typeof value === "function" &&
  typeof (value as { apiVersion?: unknown }).apiVersion === "string" &&
  typeof (value as { kind?: unknown }).kind === "string" &&
  typeof (value as { prototype?: { validate?: unknown } }).prototype?.validate === "function";

let cached: Promise<Registry> | undefined;

export function loadRegistry(): Promise<Registry> {
  cached ??= (async () => {
    const registry: Registry = new Map();
    await Promise.all(
      Object.entries(servedApis).map(async ([apiVersion, module]) => {
        const exports = (await import(module)) as Record<string, unknown>;
        for (const value of Object.values(exports)) {
          if (isModelClass(value) && value.apiVersion === apiVersion) registry.set(key(apiVersion, value.kind), value);
        }
      }),
    );
    return registry;
  })();
  return cached;
}

export function lookupModel(registry: Registry, apiVersion: string, kind: string): ModelClass | undefined {
  return registry.get(key(apiVersion, kind));
}
