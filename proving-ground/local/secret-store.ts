// Values for the Secrets the chart's Deployment references, generated on
// first use and kept (one 0600 JSON file per Secret, in a 0700 folder) so the
// stack keeps its credentials across restarts. Like Secrets created at install
// time in a cluster, they never enter Git or a ConfigMap.
import { randomInt } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random alphanumeric string: safe inside Orthanc's textual ${VAR} substitution and in URLs. */
export function randomAlphanumeric(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Usernames are readable; everything else (passwords, tokens) is random. */
export function generatedValue(key: string): string {
  return /^(user|username|user-name|user_name)$/i.test(key) ? "admin" : randomAlphanumeric(32);
}

const validName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export class SecretStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  private file(name: string): string {
    if (!validName.test(name)) throw new TaskError(`"${name}" is not a valid Secret name`, { code: "invalidValues" });
    return join(this.dir, `${name}.json`);
  }

  /** All keys of one Secret (empty when never generated). */
  read(name: string): Record<string, string> {
    const file = this.file(name);
    if (!existsSync(file)) return {};
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  }

  /** The value of a key, generated and saved on first use. */
  get(name: string, key: string): string {
    const values = this.read(name);
    const existing = values[key];
    if (existing !== undefined) return existing;
    values[key] = generatedValue(key);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    writePrivate(this.file(name), `${JSON.stringify(values, null, 2)}\n`);
    return values[key];
  }
}

/** Writes a file only its owner can read. */
export function writePrivate(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}
