// Reading parsed YAML (objects, values files) without trusting its shape.

/** The value as a plain object ({} when it is not one). */
export const record = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** The value when it is a string, else undefined. */
export const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
