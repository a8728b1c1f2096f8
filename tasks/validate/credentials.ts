// Recognises secret material in places where it must not be: ConfigMap data,
// literal env values, JSON configuration (e.g. orthanc.json) and Git.
// Placeholders such as ${ORTHANC_PASSWORD} are how secrets are referenced
// and are fine; so are empty values.

/** Names that hold secrets: password, token, api key, private key, credentials. */
export const secretName = /(pass(word|wd)?|secret|token|api[-_]?key|private[-_]?key|credential|auth[-_]?key)/i;

/**
 * Names that only point at secrets: a file path, a Secret's name, which key of a
 * Secret to read, a checksum. Matched on the lowercased name without separators,
 * so DB_PASSWORD_FILE, secretName, existingSecret, userPasswordKey all match.
 * Not "secretKey" or "apiKey": those hold the credential itself.
 */
const referenceSuffixes = ["name", "ref", "file", "path", "dir", "passwordkey", "usernamekey", "tokenkey", "keys", "existingsecret"];
const isReferenceName = (name: string): boolean => {
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return plain.startsWith("checksum") || referenceSuffixes.some((suffix) => plain.endsWith(suffix));
};

const placeholder = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
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

/** Scans a text value (e.g. a ConfigMap entry) for secret material, including inside JSON. */
export function scanText(name: string, text: string): CredentialHit[] {
  const hits: CredentialHit[] = [];
  if (privateKeyBlock.test(text)) hits.push({ path: "", reason: "contains a PEM private key" });
  const url = userInfoInUrl.exec(text);
  if (url && !isPlaceholder(url[1]!)) hits.push({ path: "", reason: "contains a URL with a password (user:password@host)" });
  if (isLiteralCredential(name, text)) hits.push({ path: "", reason: `"${name}" holds a literal secret value` });
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      hits.push(...scanJson(JSON.parse(trimmed) as unknown, ""));
    } catch {
      // not JSON after all: the text checks above still apply
    }
  }
  return hits;
}

/** Walks parsed JSON: credential-named keys must hold placeholders; Orthanc's RegisteredUsers values too. */
export function scanJson(value: unknown, path: string): CredentialHit[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => scanJson(item, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  const hits: CredentialHit[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key === "RegisteredUsers" && child && typeof child === "object") {
      for (const [user, password] of Object.entries(child as Record<string, unknown>)) {
        if (typeof password === "string" && password !== "" && !isPlaceholder(password)) {
          hits.push({ path: `${childPath}.${user}`, reason: "Orthanc RegisteredUsers password is a literal; use ${VAR} from a Secret" });
        }
      }
      continue;
    }
    if (isLiteralCredential(key, child)) hits.push({ path: childPath, reason: `"${key}" holds a literal secret value` });
    hits.push(...scanJson(child, childPath));
  }
  return hits;
}
