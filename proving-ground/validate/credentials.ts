// Recognises secret material in places where it must not be: ConfigMap data,
// literal env values, configuration text inside them (JSON such as
// orthanc.json, YAML, key=value files, connection strings) and Git.
// Placeholders are how secrets are referenced and are fine: ${VAR} (Orthanc,
// shells), $(VAR) (Kubernetes env expansion), $VAR (shells, env files); so
// are empty values.
import { readConfigText } from "./config-text.ts";

/** Names that hold secrets: password, token, api key, private key, credentials. */
export const secretName = /(pass(word|wd)?|secret|token|api[-_]?key|private[-_]?key|credential|auth[-_]?key)/i;

/**
 * Names that only point at secrets: a file path, a Secret's name, which key of a
 * Secret to read, a checksum. Matched on the lowercased name without separators,
 * so DB_PASSWORD_FILE, secretName, existingSecret, userPasswordKey, accessKeyKey all match.
 * Not "secretKey" or "apiKey": those hold the credential itself.
 */
const referenceSuffixes = ["name", "ref", "file", "path", "dir", "passwordkey", "usernamekey", "tokenkey", "keykey", "keys", "existingsecret"];
const isReferenceName = (name: string): boolean => {
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return plain.startsWith("checksum") || referenceSuffixes.some((suffix) => plain.endsWith(suffix));
};

// Bare $VAR only in capitals, as variables are written: a password may well start with "$".
const placeholder = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\([A-Za-z_][A-Za-z0-9_]*\)|\$[A-Z_][A-Z0-9_]*)$/;
const privateKeyBlock = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const userInfoInUrl = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:([^\s/@]+)@/i;

export function isPlaceholder(value: string): boolean {
  return placeholder.test(value.trim());
}

/** True when a name/value pair looks like a credential written in clear. */
export function isLiteralCredential(name: string, value: unknown): boolean {
  if (typeof value !== "string" || value.trim() === "" || isPlaceholder(value)) return false;
  return secretName.test(name) && !isReferenceName(name);
}

export interface CredentialHit {
  /** JSON path relative to the scanned value. */
  path: string;
  reason: string;
}

/** Scans a text value (e.g. a ConfigMap entry) for secret material: by its name, and inside it. */
export function scanText(name: string, text: string): CredentialHit[] {
  const hits = scanEmbedded(name, text);
  if (isLiteralCredential(name, text)) hits.unshift({ path: "", reason: `"${name}" holds a literal secret value` });
  return hits;
}

/**
 * Secret material inside a value, whatever its name: a PEM private key, a URL
 * with user:password@, and password-like keys with literal values in the
 * configuration it holds (JSON, YAML, key=value; see config-text.ts).
 */
export function scanEmbedded(name: string, text: string): CredentialHit[] {
  const hits: CredentialHit[] = [];
  if (privateKeyBlock.test(text)) hits.push({ path: "", reason: "contains a PEM private key" });
  const url = userInfoInUrl.exec(text);
  if (url && !isPlaceholder(url[1]!)) hits.push({ path: "", reason: "contains a URL with a password (user:password@host)" });
  const data = readConfigText(name, text);
  if (data !== undefined) hits.push(...(isRegisteredUsersName(name) ? scanRegisteredUsers(data, "") : scanJson(data, "")));
  return hits;
}

/** Orthanc's RegisteredUsers, as the config key or as the env variable of Orthanc's images (ORTHANC__REGISTERED_USERS). */
const isRegisteredUsersName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "").endsWith("registeredusers");

/** RegisteredUsers maps user names to passwords: every value must be a placeholder. */
function scanRegisteredUsers(users: unknown, path: string): CredentialHit[] {
  if (!users || typeof users !== "object" || Array.isArray(users)) return [];
  const hits: CredentialHit[] = [];
  for (const [user, password] of Object.entries(users as Record<string, unknown>)) {
    if (typeof password === "string" && password !== "" && !isPlaceholder(password)) {
      hits.push({ path: path ? `${path}.${user}` : user, reason: "Orthanc RegisteredUsers password is a literal, not a ${VAR} placeholder" });
    }
  }
  return hits;
}

/** Walks parsed configuration: credential-named keys must hold placeholders; Orthanc's RegisteredUsers values too. */
export function scanJson(value: unknown, path: string): CredentialHit[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => scanJson(item, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  const hits: CredentialHit[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key === "RegisteredUsers" && child && typeof child === "object") {
      hits.push(...scanRegisteredUsers(child, childPath));
      continue;
    }
    if (isLiteralCredential(key, child)) hits.push({ path: childPath, reason: `"${key}" holds a literal secret value` });
    hits.push(...scanJson(child, childPath));
  }
  return hits;
}
