// Safe reading of parsed YAML/JSON: Kubernetes objects reach the checks as
// plain data, and any field may be missing or of the wrong type.

export type Json = Record<string, unknown>;

export const asObject = (value: unknown): Json | undefined =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;

/** The object items of an array ([] when it is not one). */
export const asArray = (value: unknown): Json[] => (Array.isArray(value) ? (value.filter((item) => asObject(item)) as Json[]) : []);

export const get = (value: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((node, key) => asObject(node)?.[key], value);
