// Recovers a structural OpenAPI schema from a kubernetes-models validator.
// The packages ship ajv validators compiled to JavaScript, not the JSON
// schemas they came from, so we ask the validator: for each node we place
// sample values (one per JSON type, plus edge values) and read which errors it
// reports at that node, and we watch (through a Proxy) which property names it
// reads from an object and whether it enumerates the keys (a map). What the
// validator enforces at a node becomes the node's schema: type, properties,
// required, items, map values, enum, pattern, format, minimum/maximum,
// minLength/maxLength, minItems, minProperties. Rules inside anyOf/oneOf/not (e.g. Istio's "at most one of") cannot
// be read this way and are left out; they are counted in the report.

export interface AjvError {
  instancePath: string;
  schemaPath?: string;
  keyword: string;
  params?: Record<string, unknown>;
}

/** Runs the validator on a whole object; returns its errors (empty when valid). */
export type Validator = (object: unknown) => AjvError[];

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps we produce. */
export interface JsonSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-preserve-unknown-fields"?: true;
}

export interface ProbeReport {
  /** Nodes probed. */
  nodes: number;
  /** Pointers cut at the depth limit (kept as preserve-unknown-fields). */
  truncated: string[];
}

type Segment = string | number;
type JsonType = "string" | "integer" | "number" | "boolean" | "array" | "object";

/** Formats the API server checks with the same meaning as ajv's; others are dropped. */
const sharedFormats = new Set(["byte", "date-time", "int32", "int64", "double"]);

const probeKey = "korthweb-probe-key";
const maxDepth = 40;

// Samples per JSON type. Edge values surface bounds: "" (minLength, pattern),
// a long string (maxLength up to 70 000), huge integers (minimum/maximum, int32),
// an empty array (minItems). Upper bounds on list and map sizes are not probed:
// a list long enough to hit them costs thousands of item errors per node.
// A node accepts a type when no sample of it gets a "type" error.
const samples: Record<Exclude<JsonType, "object">, (() => unknown)[]> = {
  string: [() => "", () => "korthweb-probe", () => "k".repeat(70_000)],
  integer: [() => 0, () => 7, () => -1_000_000_000_000, () => 1_000_000_000_000],
  number: [() => 0.5],
  boolean: [() => true],
  array: [() => []],
};

const pointerOf = (path: readonly Segment[]) =>
  path.map((segment) => `/${String(segment).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");

/** An object holding `value` at `path` (arrays for numeric segments). */
function placeAt(path: readonly Segment[], value: unknown): unknown {
  let result = value;
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i]!;
    result = typeof segment === "number" ? [result] : { [segment]: result };
  }
  return result;
}

const insideJunctor = (error: AjvError) => /\/(anyOf|oneOf|not)(\/|$)/.test(error.schemaPath ?? "");

/**
 * The sample has the wrong type: a "type" error of the node itself, or an anyOf/oneOf
 * that failed only on types (how int-or-string is often written: anyOf integer, string).
 */
function wrongType(errors: readonly AjvError[]): boolean {
  if (errors.some((error) => error.keyword === "type" && !insideJunctor(error))) return true;
  const branches = errors.filter(insideJunctor);
  return errors.some((error) => error.keyword === "anyOf" || error.keyword === "oneOf") && branches.length > 0 && branches.every((error) => error.keyword === "type");
}

interface Observation {
  reads: Set<string>;
  enumerated: boolean;
}

/** A Proxy over `target` that records property reads and key enumeration. */
function watched(target: object, seen: Observation): object {
  return new Proxy(target, {
    get(object, key, receiver) {
      if (typeof key === "string") seen.reads.add(key);
      return Reflect.get(object, key, receiver);
    },
    has(object, key) {
      if (typeof key === "string") seen.reads.add(key);
      return Reflect.has(object, key);
    },
    ownKeys(object) {
      seen.enumerated = true;
      return Reflect.ownKeys(object);
    },
  });
}

export class SchemaProber {
  readonly report: ProbeReport = { nodes: 0, truncated: [] };
  private readonly validate: Validator;

  constructor(validate: Validator) {
    this.validate = validate;
  }

  /** Errors the validator reports exactly at `path` for `value` placed there. */
  private errorsAt(path: readonly Segment[], value: unknown): AjvError[] {
    const pointer = pointerOf(path);
    return this.validate(placeAt(path, value)).filter((error) => error.instancePath === pointer);
  }

  /** The schema the validator enforces at `path`. */
  probe(path: readonly Segment[]): JsonSchema {
    this.report.nodes++;
    const pointer = pointerOf(path) || "/";
    if (path.length > maxDepth) {
      this.report.truncated.push(pointer);
      return { "x-kubernetes-preserve-unknown-fields": true };
    }
    const accepted = new Set<JsonType>();
    const constraints: JsonSchema = {};
    const note = (errors: AjvError[]) => {
      for (const error of errors) if (!insideJunctor(error)) addConstraint(constraints, error);
    };
    for (const [type, makers] of Object.entries(samples) as [JsonType, (() => unknown)[]][]) {
      for (const make of makers) {
        const errors = this.errorsAt(path, make());
        if (wrongType(errors)) continue;
        accepted.add(type);
        note(errors);
      }
    }
    const object = this.observeObject(path);
    if (object.accepted) {
      accepted.add("object");
      note(object.errors);
    }

    const everything = accepted.size === 6;
    if (everything && object.reads.size === 0 && !object.enumerated) return { "x-kubernetes-preserve-unknown-fields": true };
    // An object whose keys the validator reads or enumerates; when other types pass too
    // (a schema with properties but no type), object is the only type that means anything.
    if (accepted.has("object") && (object.reads.size > 0 || object.enumerated)) {
      return { type: "object", ...this.objectSchema(path, object), ...pick(constraints, ["minProperties", "maxProperties"]) };
    }
    if (accepted.has("string") && accepted.has("integer")) {
      return { "x-kubernetes-int-or-string": true, ...pick(constraints, ["pattern", "enum"]) };
    }
    if (accepted.size === 1 || (accepted.size === 2 && accepted.has("integer") && accepted.has("number"))) {
      const type = accepted.has("number") ? "number" : ([...accepted][0] as JsonType);
      if (type === "array") return { type, items: this.probe([...path, 0]), ...pick(constraints, ["minItems", "maxItems"]) };
      if (type === "object") return { type, "x-kubernetes-preserve-unknown-fields": true, ...pick(constraints, ["minProperties", "maxProperties"]) };
      const kept = type === "string"
        ? pick(constraints, ["enum", "pattern", "format", "minLength", "maxLength"])
        : type === "boolean"
          ? pick(constraints, ["enum"])
          : pick(constraints, ["enum", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]);
      return { type, ...kept };
    }
    // Several unrelated types (or none): structural schemas cannot say that.
    return { "x-kubernetes-preserve-unknown-fields": true };
  }

  private observeObject(path: readonly Segment[]): Observation & { accepted: boolean; errors: AjvError[] } {
    const seen: Observation = { reads: new Set(), enumerated: false };
    const errors = this.errorsAt(path, watched({}, seen));
    const accepted = !wrongType(errors);
    return { ...seen, accepted, errors };
  }

  private objectSchema(path: readonly Segment[], object: Observation & { errors: AjvError[] }): JsonSchema {
    const required = object.errors
      .filter((error) => error.keyword === "required" && !insideJunctor(error))
      .map((error) => String(error.params?.missingProperty));
    if (object.reads.size > 0) {
      const properties: Record<string, JsonSchema> = {};
      for (const name of [...object.reads].sort()) properties[name] = this.probe([...path, name]);
      return { properties, ...(required.length ? { required: [...new Set(required)].sort() } : {}) };
    }
    // Keys enumerated, none read: a map. Its values are probed under a made-up key.
    const values = this.probe([...path, probeKey]);
    if (values["x-kubernetes-preserve-unknown-fields"] && Object.keys(values).length === 1) {
      return { "x-kubernetes-preserve-unknown-fields": true };
    }
    return { additionalProperties: values };
  }
}

function pick(schema: JsonSchema, keys: (keyof JsonSchema)[]): JsonSchema {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (schema[key] !== undefined) out[key] = schema[key];
  return out as JsonSchema;
}

/** Turns one ajv error at a node into the schema keyword that caused it. */
function addConstraint(schema: JsonSchema, error: AjvError): void {
  const params = error.params ?? {};
  const limit = typeof params.limit === "number" ? params.limit : undefined;
  switch (error.keyword) {
    case "enum": {
      const values = (params.allowedValues as unknown[] | undefined)?.filter((value) => value !== null);
      if (values?.length) schema.enum = values;
      break;
    }
    case "pattern":
      if (typeof params.pattern === "string") schema.pattern = params.pattern;
      break;
    case "format":
      if (typeof params.format === "string" && sharedFormats.has(params.format)) schema.format = params.format;
      break;
    case "minLength":
    case "maxLength":
    case "minItems":
    case "maxItems":
    case "minProperties":
    case "maxProperties":
      if (limit !== undefined) schema[error.keyword] = limit;
      break;
    case "minimum":
    case "maximum":
      if (limit !== undefined) schema[error.keyword] = limit;
      break;
    case "exclusiveMinimum":
      if (limit !== undefined) Object.assign(schema, { minimum: limit, exclusiveMinimum: true });
      break;
    case "exclusiveMaximum":
      if (limit !== undefined) Object.assign(schema, { maximum: limit, exclusiveMaximum: true });
      break;
    default:
      break; // required (read per object), type (decided above), additionalProperties …
  }
}
