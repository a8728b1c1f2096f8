// Random credentials for the Secrets the install creates. Alphanumeric only:
// Orthanc substitutes ${VAR} into its JSON configuration as plain text, where a
// quote or backslash would break the file (or inject keys).
import { randomInt } from "node:crypto";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random alphanumeric string (32 characters ≈ 190 bits). */
export function randomAlphanumeric(length = 32): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const isAlphanumeric = (value: string): boolean => /^[A-Za-z0-9]+$/.test(value);
