// A finding: one problem with one object, located by file, object and JSON path.

export type Rule =
  | "parse" // not YAML, or not an object
  | "schema" // wrong type, missing required field, bad enum …
  | "unknown-field" // a field the schema does not define
  | "no-schema" // apiVersion/kind we have no schema for (and not allow-listed)
  | "removed-api" // apiVersion removed or deprecated upstream
  | "pod-security" // violates Pod Security "restricted"
  | "resources" // missing requests/limits
  | "probes" // missing readiness/liveness probe
  | "image" // image not pinned to a tag, or :latest
  | "credentials" // secret material in a ConfigMap, env literal or Git
  | "render"; // a source failed to render

export interface Finding {
  /** File (or render source) the object came from. */
  file: string;
  /** "Deployment orthanc/orthanc" or "-" when no object applies. */
  object: string;
  /** JSON path inside the object, e.g. spec.template.spec.containers[0].image. */
  path: string;
  rule: Rule;
  message: string;
}

/** "/spec/containers/0/image" → "spec.containers[0].image" */
export function pointerToPath(pointer: string): string {
  if (pointer === "" || pointer === "/") return "(root)";
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((path, part) => {
      if (/^\d+$/.test(part)) return `${path}[${part}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(part)) return path ? `${path}.${part}` : part;
      return `${path}[${JSON.stringify(part)}]`;
    }, "");
}

/** A finding before it is tied to a file and object: what the checks return. */
export type Issue = Omit<Finding, "file" | "object">;

export function formatFinding(finding: Finding): string {
  return `${finding.file}: ${finding.object}: ${finding.path}: [${finding.rule}] ${finding.message}`;
}
