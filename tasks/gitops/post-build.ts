// Flux's post-build variable substitution (a Kustomization's
// spec.postBuild.substitute / substituteFrom), done offline on what
// `kubectl kustomize` built, so the tree the checks and the --skip-upstream
// install see is what kustomize-controller applies.
//
// Why our own code: Flux does this with its Go package fluxcd/pkg/envsubst;
// its CLI (`flux envsubst`, `flux build kustomization`) cannot be installed
// here (the flux2 module does not `go install` from the module proxy), and the
// npm envsubst packages follow gettext/shell rules (they replace $VAR as well,
// and know neither the $${VAR} escape nor the substitute: disabled marker).
// Only the subset of Flux's syntax that a tree should need is emulated;
// anything else is refused with the variable named, never guessed:
//   ${var}  ${var:=default}  ${var:-default}  ${var=default}  ${var-default}
//   $${...}  → a literal ${...} (how Orthanc's ${VAR} placeholders survive)
//   objects labelled or annotated kustomize.toolkit.fluxcd.io/substitute: disabled are left as they are.
// A variable with no value and no default is an error, as under Flux's
// StrictPostBuildSubstitutions (Flux without it writes an empty string,
// which is never what a tenant's name should become).
import { parse, stringify } from "yaml";
import type { KubeObject } from "../lib/manifests.ts";
import { record, text } from "../lib/values.ts";

/** Label or annotation with which an object opts out of substitution. */
export const substituteMarker = "kustomize.toolkit.fluxcd.io/substitute";

/** Flux's rule for variable names. */
const variableName = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

export class SubstitutionError extends Error {}

/** The variables a Kustomization's postBuild defines: substituteFrom in order (later wins), then substitute (wins over all). */
export function postBuildVariables(kustomization: KubeObject, lookup: (kind: string, name: string) => Record<string, string> | undefined): Map<string, string> | undefined {
  const postBuild = record(record(kustomization.spec).postBuild);
  const substitute = record(postBuild.substitute);
  const from = Array.isArray(postBuild.substituteFrom) ? postBuild.substituteFrom.map(record) : [];
  // Flux substitutes only when something is declared.
  if (Object.keys(substitute).length === 0 && from.length === 0) return undefined;
  const variables = new Map<string, string>();
  for (const source of from) {
    const kind = text(source.kind) ?? "";
    const name = text(source.name) ?? "";
    const data = lookup(kind, name);
    if (!data) {
      if (source.optional === true) continue;
      throw new SubstitutionError(`postBuild.substituteFrom ${kind} ${name} is not in the tree${kind === "Secret" ? " (Secrets are made at install time, not read offline)" : ""}`);
    }
    for (const [key, value] of Object.entries(data)) variables.set(key, value);
  }
  for (const [key, value] of Object.entries(substitute)) variables.set(key, String(value));
  for (const key of variables.keys()) {
    if (!variableName.test(key)) throw new SubstitutionError(`postBuild variable name "${key}" is not valid (letters, digits and _, not starting with a digit)`);
  }
  return variables;
}

/** One ${...} expression: the variable and, when given, the default used if it is unset (or empty, for := and :-). */
function evaluate(expression: string, variables: ReadonlyMap<string, string>): string {
  const match = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[=-])(.*))?$/s.exec(expression);
  if (!match) throw new SubstitutionError(`\${${expression}} uses syntax this offline substitution does not emulate (supported: \${var}, \${var:=default}, \${var:-default}); write $\${...} for a literal`);
  const [, name, operator, fallback] = match as unknown as [string, string, string | undefined, string | undefined];
  if (fallback?.includes("${")) throw new SubstitutionError(`\${${expression}}: a variable inside a default is not emulated offline`);
  const value = variables.get(name);
  if (operator === undefined) {
    if (value === undefined) throw new SubstitutionError(`\${${name}} has no value (postBuild.substitute) and no default; for a literal \${${name}} write $\${${name}}`);
    return value;
  }
  const emptyCounts = operator.startsWith(":");
  return value === undefined || (emptyCounts && value === "") ? (fallback ?? "") : value;
}

/** envsubst as Flux does it: ${...} replaced, $${...} kept as ${...}, a lone $ left alone. */
export function substitute(input: string, variables: ReadonlyMap<string, string>): string {
  let out = "";
  let i = 0;
  while (i < input.length) {
    const dollar = input.indexOf("$", i);
    if (dollar < 0) break;
    out += input.slice(i, dollar);
    if (input.startsWith("$${", dollar)) {
      out += "${";
      i = dollar + 3;
    } else if (input.startsWith("${", dollar)) {
      const end = input.indexOf("}", dollar + 2);
      if (end < 0) throw new SubstitutionError(`unterminated \${ in "${input.slice(dollar, dollar + 40)}"`);
      out += evaluate(input.slice(dollar + 2, end), variables);
      i = end + 1;
    } else {
      out += "$";
      i = dollar + 1;
    }
  }
  return out + input.slice(i);
}

const optedOut = (object: KubeObject) =>
  record(object.metadata?.labels)[substituteMarker] === "disabled" || record(object.metadata?.annotations)[substituteMarker] === "disabled";

/** Each object with the variables substituted in its YAML form (as Flux does), unless it opts out. Errors name the object. */
export function substituteObjects(objects: readonly KubeObject[], variables: ReadonlyMap<string, string>): KubeObject[] {
  return objects.map((object) => {
    if (optedOut(object)) return object;
    try {
      return parse(substitute(stringify(object, { lineWidth: 0 }), variables)) as KubeObject;
    } catch (error) {
      const where = `${String(object.kind)} ${object.metadata?.namespace ? `${String(object.metadata.namespace)}/` : ""}${String(object.metadata?.name ?? "")}`;
      throw new SubstitutionError(`${where}: ${(error as Error).message}`);
    }
  });
}
