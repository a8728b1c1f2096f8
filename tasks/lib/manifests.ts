// Kubernetes manifests as data: parse multi-document YAML into objects, and
// write them back. Source file and document index travel with each object so
// that findings can point at where an object came from.
import { parseAllDocuments, stringify } from "yaml";

export interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

export interface SourcedObject {
  object: KubeObject;
  /** File (or render source, e.g. "helm template helm/orthanc -f …") it came from. */
  source: string;
  /** 0-based index of the document within the source. */
  index: number;
}

export class ManifestParseError extends Error {
  readonly source: string;
  readonly index: number;
  constructor(source: string, index: number, message: string) {
    super(`${source}: document ${index + 1}: ${message}`);
    this.source = source;
    this.index = index;
    this.name = "ManifestParseError";
  }
}

/** All non-empty documents of a YAML stream; List kinds are expanded into their items. */
export function parseManifests(text: string, source: string): SourcedObject[] {
  const out: SourcedObject[] = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((doc, index) => {
    if (doc.errors.length > 0) throw new ManifestParseError(source, index, doc.errors[0]!.message.split("\n")[0]!);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new ManifestParseError(source, index, "is not a mapping (expected a Kubernetes object)");
    }
    const object = value as KubeObject;
    if (typeof object.kind === "string" && object.kind.endsWith("List") && Array.isArray(object.items)) {
      for (const item of object.items as KubeObject[]) out.push({ object: item, source, index });
    } else {
      out.push({ object, source, index });
    }
  });
  return out;
}

export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n");
}

/** "Deployment orthanc/orthanc" — how findings and logs name an object. */
export function describeObject(object: KubeObject): string {
  const kind = typeof object.kind === "string" ? object.kind : "<no kind>";
  const name = typeof object.metadata?.name === "string" ? object.metadata.name : "<no name>";
  const namespace = typeof object.metadata?.namespace === "string" ? `${object.metadata.namespace}/` : "";
  return `${kind} ${namespace}${name}`;
}
