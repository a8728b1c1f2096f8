// Strict schema validation with the validators that ship in kubernetes-models.
// Those validators ignore unknown fields, so we watch them work: every object
// is wrapped in a Proxy that records which property names the validator looks
// up. A field the validator never asked about is a field the schema does not
// define. Objects the validator iterates (maps such as labels) or never reads
// (free-form, e.g. HelmRelease values) are left alone.
import { pointerToPath, type Finding } from "./finding.ts";

interface Visit {
  value: object;
  read: Set<string>;
  /** The validator enumerated its keys: a map, so any key is allowed. */
  enumerated: boolean;
}

function observe(root: object): { proxy: object; visits: Map<string, Visit> } {
  const visits = new Map<string, Visit>();
  const wrap = (value: unknown, pointer: string): unknown => {
    if (value === null || typeof value !== "object") return value;
    const visit: Visit = { value, read: new Set(), enumerated: false };
    visits.set(pointer, visit);
    const children = new Map<string, unknown>();
    return new Proxy(value, {
      get(target, key, receiver) {
        const child: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== "string" || (Array.isArray(target) && key === "length")) return child;
        visit.read.add(key);
        if (!Object.hasOwn(target, key)) return child;
        if (!children.has(key)) children.set(key, wrap(child, `${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`));
        return children.get(key);
      },
      has(target, key) {
        if (typeof key === "string") visit.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        visit.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
  };
  return { proxy: wrap(root, "") as object, visits };
}

interface AjvError {
  instancePath: string;
  message?: string;
  keyword: string;
  params?: Record<string, unknown>;
}

export type ModelClass = { prototype: { validate(): void }; apiVersion: string; kind: string };

export interface StrictResult {
  errors: Omit<Finding, "file" | "object">[];
}

/** Validate `object` against `model`'s schema; unknown fields are errors. */
export function validateStrict(model: ModelClass, object: object): StrictResult {
  const { proxy, visits } = observe(object);
  const errors: StrictResult["errors"] = [];
  try {
    model.prototype.validate.call(proxy);
  } catch (error) {
    const ajvErrors = (error as { errors?: AjvError[] }).errors ?? [];
    for (const item of ajvErrors) {
      const pointer = item.keyword === "required" && item.params?.missingProperty
        ? `${item.instancePath}/${String(item.params.missingProperty)}`
        : item.instancePath;
      errors.push({ path: pointerToPath(pointer), rule: "schema", message: describeAjvError(item) });
    }
    if (ajvErrors.length === 0) errors.push({ path: "(root)", rule: "schema", message: (error as Error).message });
  }
  for (const [pointer, visit] of visits) {
    if (Array.isArray(visit.value) || visit.enumerated || visit.read.size === 0) continue;
    for (const key of Object.keys(visit.value)) {
      if (!visit.read.has(key)) {
        errors.push({
          path: pointerToPath(`${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`),
          rule: "unknown-field",
          message: `unknown field "${key}" (not in the ${model.apiVersion} ${model.kind} schema)`,
        });
      }
    }
  }
  return { errors };
}

function describeAjvError(error: AjvError): string {
  switch (error.keyword) {
    case "required":
      return `required field is missing`;
    case "type":
      return `must be ${String(error.params?.type)}`;
    case "enum":
      return `must be one of ${JSON.stringify(error.params?.allowedValues)}`;
    default:
      return error.message ?? error.keyword;
  }
}
