// The JSON schemas kubeconform validates against, produced offline:
// - Kubernetes' own kinds from the OpenAPI v3 documents that ship in the
//   k8s.io/kubernetes module at the pinned version (pins.cluster.kubernetes,
//   api/openapi-spec/v3), fetched from the Go module proxy — the same spec the
//   API server of that version serves, without needing one running;
// - the custom kinds (Istio, cert-manager, Traefik, Flux, prometheus-operator)
//   from the CRDs that proving-ground/cluster/crds.ts derives from the
//   kubernetes-models validators (the simulated cluster serves the same CRDs).
// Only served API versions are written (tasks/lib/api-versions.ts), so an
// alpha/beta kind has no schema and is reported as such.
// Strictness: neither source says "no other fields" (the API server prunes or
// rejects them itself), so every object schema with properties gets
// `additionalProperties: false` unless it preserves unknown fields — what the
// "-strict" schema sets of kubernetes-json-schema do. Like those, a declared type
// also accepts null (the API server treats null as unset).
// Layout: <dir>/<group>/<kind>_<version>.json, kind in lower case, read by
// kubeconform with -schema-location '<dir>/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'.
// The core group is "v1" there (kubeconform's .Group of apiVersion "v1").
// Not kubeconform's default {kind}-{group}-{version} names: those keep only the
// group's first label, so networking.k8s.io and networking.istio.io would share one.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo } from "../../tasks/lib/go.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { servedApis } from "../../tasks/lib/api-versions.ts";
import { crdFile } from "../cluster/crd-cache.ts";
import { cacheRoot } from "../cluster/layout.ts";

export type JsonSchema = { [key: string]: unknown };

export const schemaLocationTemplate = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json";

/** Where the schema of apiVersion/kind lives inside the schema folder (the template above, evaluated). */
export function schemaFileOf(apiVersion: string, kind: string): string {
  const [group, version = group] = apiVersion.includes("/") ? apiVersion.split("/") : [apiVersion, apiVersion];
  return join(group!, `${kind.toLowerCase()}_${version}.json`);
}

const isRecord = (value: unknown): value is JsonSchema => !!value && typeof value === "object" && !Array.isArray(value);

/**
 * A copy of `schema` made strict (additionalProperties: false on objects with properties,
 * unless unknown fields are preserved or a map is declared), null accepted where a type is,
 * and OpenAPI component refs pointed at `definitions`.
 */
export function strictSchema(schema: unknown, root = true): unknown {
  if (Array.isArray(schema)) return schema.map((item) => strictSchema(item, false));
  if (!isRecord(schema)) return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$ref" && typeof value === "string") out[key] = value.replace("#/components/schemas/", "#/definitions/");
    else if (key === "properties" && isRecord(value)) out[key] = Object.fromEntries(Object.entries(value).map(([name, child]) => [name, strictSchema(child, false)]));
    else if (key === "enum" || key === "default" || key === "example" || key === "required") out[key] = value;
    else out[key] = strictSchema(value, false);
  }
  if (isRecord(out.properties) && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  if (!root && typeof out.type === "string") {
    out.type = [out.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  }
  return out;
}

/** The component names a schema refers to, transitively. */
function reachable(components: Record<string, unknown>, start: string): string[] {
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isRecord(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (key === "$ref" && typeof child === "string" && child.startsWith("#/components/schemas/")) {
          const name = child.slice("#/components/schemas/".length);
          if (!seen.has(name)) {
            seen.add(name);
            visit(components[name]);
          }
        } else visit(child);
      }
    }
  };
  seen.add(start);
  visit(components[start]);
  return [...seen];
}

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/** One schema per served Kubernetes kind, from the OpenAPI v3 documents of a k8s.io/kubernetes module folder. */
export function kubernetesKindSchemas(openApiDir: string): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const file of readdirSync(openApiDir).filter((name) => name.endsWith("_openapi.json")).sort()) {
    const components = ((JSON.parse(readFileSync(join(openApiDir, file), "utf8")) as { components?: { schemas?: Record<string, unknown> } }).components?.schemas ?? {});
    for (const [name, schema] of Object.entries(components)) {
      const gvks = (isRecord(schema) ? schema["x-kubernetes-group-version-kind"] : undefined) as Gvk[] | undefined;
      if (!gvks || gvks.length !== 1) continue; // shared types (DeleteOptions, WatchEvent) are not objects one applies
      const { group, version, kind } = gvks[0]!;
      const apiVersion = group ? `${group}/${version}` : version;
      if (!(apiVersion in servedApis) || out.has(`${apiVersion} ${kind}`)) continue;
      const definitions = Object.fromEntries(reachable(components, name).filter((ref) => ref !== name).map((ref) => [ref, strictSchema(components[ref], false)]));
      out.set(`${apiVersion} ${kind}`, { ...(strictSchema(schema) as JsonSchema), definitions });
    }
  }
  return out;
}

export interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema?: unknown } }[] };
}

const objectMetaName = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/** ObjectMeta and what it refers to, strict, from the core group's OpenAPI document. */
export function objectMetaDefinitions(openApiDir: string): Record<string, unknown> {
  const components = (JSON.parse(readFileSync(join(openApiDir, "api__v1_openapi.json"), "utf8")) as { components: { schemas: Record<string, unknown> } }).components.schemas;
  return Object.fromEntries(reachable(components, objectMetaName).map((ref) => [ref, strictSchema(components[ref], false)]));
}

/**
 * One schema per served custom kind, from the CRDs of the simulated cluster. A CRD may not describe
 * metadata (the API server checks it), so it is given Kubernetes' own ObjectMeta here.
 */
export function crdKindSchemas(
  crds: readonly Crd[],
  metaDefinitions: Record<string, unknown>,
  /** Which API versions to take: served ones by default; upstream CRD files (e.g. CloudNativePG's) name their own. */
  accept: (apiVersion: string) => boolean = (apiVersion) => apiVersion in servedApis,
): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const crd of crds) {
    for (const version of crd.spec.versions) {
      const apiVersion = `${crd.spec.group}/${version.name}`;
      if (!accept(apiVersion) || !version.schema?.openAPIV3Schema) continue;
      const schema = strictSchema(version.schema.openAPIV3Schema) as JsonSchema & { properties?: Record<string, unknown> };
      if (schema.properties) schema.properties = { ...schema.properties, metadata: { $ref: `#/definitions/${objectMetaName}` } };
      out.set(`${apiVersion} ${crd.spec.names.kind}`, { ...schema, definitions: metaDefinitions });
    }
  }
  return out;
}

/** The k8s.io/kubernetes module's OpenAPI v3 folder, downloaded from the Go module proxy (cached by Go). */
async function kubernetesOpenApiDir(): Promise<string> {
  const { go, env } = await requireGo("producing Kubernetes JSON schemas for kubeconform");
  const scratch = join(cacheRoot(), "kubeconform-schemas");
  mkdirSync(scratch, { recursive: true });
  const { stdout } = await run(go, ["mod", "download", "-json", `k8s.io/kubernetes@${pins.cluster.kubernetes}`], { cwd: scratch, env, silent: true });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  const openApi = dir ? join(dir, "api", "openapi-spec", "v3") : "";
  if (!openApi || !existsSync(openApi)) throw new TaskError(`k8s.io/kubernetes@${pins.cluster.kubernetes} from the module proxy has no api/openapi-spec/v3`);
  return openApi;
}

const generatorSources = ["proving-ground/validate/kube-schemas.ts", "tasks/lib/api-versions.ts"];

/**
 * The schema folder for the pinned Kubernetes version and the current CRDs, generated on first use
 * and cached outside the repository (keyed by the version, the CRD cache key and this generator).
 */
export async function schemaDir(): Promise<string> {
  const crds = await crdFile();
  const hash = createHash("sha256").update(`${pins.cluster.kubernetes}\n${crds.path}\n`);
  for (const source of generatorSources) hash.update(readFileSync(fromRoot(source)));
  const dir = join(cacheRoot(), "kubeconform-schemas", `${pins.cluster.kubernetes}-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const openApi = await kubernetesOpenApiDir();
  const crdItems = (JSON.parse(readFileSync(crds.path, "utf8")) as { items: Crd[] }).items;
  const schemas = new Map([...kubernetesKindSchemas(openApi), ...crdKindSchemas(crdItems, objectMetaDefinitions(openApi))]);
  // Written aside then renamed: a concurrent `make validate` never reads half a folder.
  const partial = `${dir}.${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  for (const [key, schema] of schemas) {
    const [apiVersion, kind] = key.split(" ") as [string, string];
    const file = join(partial, schemaFileOf(apiVersion, kind));
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, JSON.stringify(schema));
  }
  writeFileSync(join(partial, ".complete"), `${schemas.size} schemas\n`);
  try {
    renameSync(partial, dir);
  } catch {
    rmSync(partial, { recursive: true, force: true }); // another process finished first
  }
  return dir;
}
