// CustomResourceDefinitions for the simulated cluster, generated from the
// schemas kubernetes-models ships (the same ones `make validate` checks
// against), so the API server itself rejects a custom resource with a wrong
// type, a missing required field, a bad enum value or an unknown field.
// Which kinds: every kind of every custom API version the validator serves
// (tasks/lib/api-versions.ts). The packages do not say whether a kind is
// namespaced, nor its plural: both follow upstream below.
//   node proving-ground/cluster/crds.ts [--out FILE]   write the CRDs as a JSON List (default: stdout)
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { allowedWithoutSchema, servedApis } from "../../tasks/lib/api-versions.ts";
import { loadRegistry, type ModelClass } from "./model-registry.ts";
import { SchemaProber, type AjvError, type JsonSchema, type ProbeReport, type Validator } from "./schema-probe.ts";

/** Kinds that upstream defines as cluster-scoped (all others are namespaced). */
export const clusterScoped = new Set(["cert-manager.io/ClusterIssuer"]);

/**
 * Kinds our manifests use that ship no schema (tasks/lib/api-versions.ts allowedWithoutSchema):
 * their CRD keeps any spec (x-kubernetes-preserve-unknown-fields), the only choice without a schema.
 * IstioOperator is left out: istioctl reads it from a file, it is never applied to a cluster.
 */
export const schemalessKinds = ["kiali.io/v1alpha1 Kiali"];

/** The resource name Kubernetes would guess for a kind, which upstream CRDs follow: IngressRoute → ingressroutes. */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith("s")) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

const isCustomApi = (apiVersion: string, module: string) => apiVersion.includes(".") && module.startsWith("@kubernetes-models/");

export function validatorOf(model: ModelClass): Validator {
  return (object) => {
    try {
      model.prototype.validate.call(object);
      return [];
    } catch (error) {
      return (error as { errors?: AjvError[] }).errors ?? [{ instancePath: "", keyword: "exception" }];
    }
  };
}

export interface KindSchema {
  apiVersion: string;
  kind: string;
  schema: JsonSchema;
  report: ProbeReport;
}

/** The schema of one kind: apiVersion/kind/metadata as every CRD has them, the rest probed. */
export function kindSchema(model: ModelClass): KindSchema {
  const prober = new SchemaProber(validatorOf(model));
  const root = prober.probe([]);
  const properties: Record<string, JsonSchema> = {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    // The API server validates metadata itself; a CRD may not describe it beyond this.
    metadata: { type: "object" },
  };
  for (const [name, schema] of Object.entries(root.properties ?? {})) {
    if (!(name in properties)) properties[name] = schema;
  }
  const required = (root.required ?? []).filter((name) => !["apiVersion", "kind", "metadata"].includes(name));
  return {
    apiVersion: model.apiVersion,
    kind: model.kind,
    schema: { type: "object", properties, ...(required.length ? { required } : {}) },
    report: prober.report,
  };
}

const groupOf = (apiVersion: string) => apiVersion.split("/")[0]!;
const versionOf = (apiVersion: string) => apiVersion.split("/")[1]!;

export function crdObject(group: string, kind: string, versions: { name: string; schema: JsonSchema }[]): KubeObject {
  const plural = pluralOf(kind);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${plural}.${group}`,
      labels: { "app.kubernetes.io/managed-by": "korthweb-cluster", "korthweb.dev/crd-source": "kubernetes-models" },
    },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: clusterScoped.has(`${group}/${kind}`) ? "Cluster" : "Namespaced",
      versions: versions.map((version, i) => ({
        name: version.name,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: version.schema },
        ...(version.schema.properties?.status ? { subresources: { status: {} } } : {}),
      })),
    },
  };
}

export interface GeneratedCrds {
  crds: KubeObject[];
  kinds: KindSchema[];
}

/**
 * The CRDs as one JSON List, which kubectl applies as is. JSON rather than YAML:
 * enum values such as "=" mean different things to YAML 1.1 and 1.2 parsers.
 */
export const crdList = (crds: readonly KubeObject[]): string => `${JSON.stringify({ apiVersion: "v1", kind: "List", items: crds })}\n`;

/** One CRD per custom kind the validator serves, plus the schemaless ones. */
export async function generateCrds(): Promise<GeneratedCrds> {
  const registry = await loadRegistry();
  const kinds: KindSchema[] = [];
  for (const model of registry.values()) {
    const module = servedApis[model.apiVersion] ?? "";
    if (!isCustomApi(model.apiVersion, module) || model.kind.endsWith("List")) continue;
    kinds.push(kindSchema(model));
  }
  kinds.sort((a, b) => `${groupOf(a.apiVersion)}/${a.kind}`.localeCompare(`${groupOf(b.apiVersion)}/${b.kind}`));
  // Versions of one kind in one group share a CRD; the first listed is stored.
  const byKind = new Map<string, { group: string; kind: string; versions: { name: string; schema: JsonSchema }[] }>();
  for (const item of kinds) {
    const group = groupOf(item.apiVersion);
    const key = `${group}/${item.kind}`;
    const entry = byKind.get(key) ?? { group, kind: item.kind, versions: [] };
    entry.versions.push({ name: versionOf(item.apiVersion), schema: item.schema });
    byKind.set(key, entry);
  }
  const crds = [...byKind.values()].map((entry) => crdObject(entry.group, entry.kind, entry.versions));
  for (const item of schemalessKinds) {
    if (!(item in allowedWithoutSchema)) throw new Error(`${item} is not in allowedWithoutSchema (tasks/lib/api-versions.ts)`);
    const [apiVersion, kind] = item.split(" ") as [string, string];
    const schema: JsonSchema = {
      type: "object",
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object" },
        spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
    };
    crds.push(crdObject(groupOf(apiVersion), kind, [{ name: versionOf(apiVersion), schema }]));
  }
  return { crds, kinds };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const started = Date.now();
  const { crds, kinds } = await generateCrds();
  const text = crdList(crds);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  const nodes = kinds.reduce((sum, item) => sum + item.report.nodes, 0);
  const truncated = kinds.reduce((sum, item) => sum + item.report.truncated.length, 0);
  process.stderr.write(
    `${crds.length} CRDs (${kinds.length} kinds probed, ${nodes} schema nodes, ${truncated} cut at the depth limit) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
  );
}
