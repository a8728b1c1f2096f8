// Secrets the installs generate: random alphanumeric credentials, created only
// when missing (a re-run keeps the passwords a database was initialised with),
// checked when present. Alphanumeric only: Orthanc substitutes ${VAR} into its
// JSON configuration as plain text, where a quote or backslash would break the
// file (or inject keys). Values are never logged.
import { randomInt } from "node:crypto";
import { TaskError } from "./errors.ts";
import type { Kube } from "./kube.ts";
import type { KubeObject } from "./manifests.ts";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random alphanumeric string (32 characters ≈ 190 bits). */
export function randomAlphanumeric(length = 32): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const isAlphanumeric = (value: string): boolean => /^[A-Za-z0-9]+$/.test(value);

export interface SecretSpec {
  name: string;
  /** key → how to make its value */
  keys: Record<string, () => string>;
}

/** Creates the Secret when absent; checks an existing one has usable keys. Returns what it did. */
export async function ensureSecret(kube: Kube, namespace: string, spec: SecretSpec): Promise<"created" | "kept"> {
  const keys = Object.keys(spec.keys);
  const existing = await kube.get<{ data?: Record<string, string> }>("secret", spec.name, namespace);
  if (existing) {
    for (const key of keys) {
      const value = Buffer.from(existing.data?.[key] ?? "", "base64").toString("utf8");
      if (!value) throw new TaskError(`Secret ${namespace}/${spec.name} exists but has no key ${key}`, { code: "invalidValues", hint: `add it, or delete the Secret to have a new one generated (kubectl -n ${namespace} delete secret ${spec.name}); the database keeps its old password` });
      if (!isAlphanumeric(value)) throw new TaskError(`Secret ${namespace}/${spec.name} key ${key} is not alphanumeric`, { code: "invalidValues", hint: "Orthanc substitutes it into JSON as text: use letters and digits only" });
    }
    return "kept";
  }
  const secret: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: spec.name, namespace, labels: { "app.kubernetes.io/part-of": "korthweb" } },
    type: "Opaque",
    stringData: Object.fromEntries(Object.entries(spec.keys).map(([key, make]) => [key, make()])),
  };
  await kube.apply([secret], `Secret ${namespace}/${spec.name}`);
  return "created";
}
