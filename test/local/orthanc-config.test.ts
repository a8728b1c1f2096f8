// orthanc.json as a template: references survive parse → change → write,
// substitution behaves like Orthanc's, and the overlay changes only what it names.
import { describe, expect, it } from "vitest";
import type { TaskError } from "../../tasks/lib/errors.ts";
import {
  applyOverlay,
  differingPaths,
  overlayPaths,
  parseTemplate,
  referencedVariables,
  resolveTemplate,
  stringifyTemplate,
  substitute,
} from "../../tasks/lib/orthanc-config.ts";

const template = `{
  "Name": "Orthanc",
  "RegisteredUsers": { "\${ADMIN_USER}": "\${ADMIN_PASSWORD}" },
  "PostgreSQL": { "Host": "db", "Port": \${PG_PORT}, "Password": "\${PG_PASSWORD}", "EnableSsl": true },
  "HttpPort": \${HTTP_PORT:-8042},
  "Quoted": "a \\"\${NOT_BARE}\\" b"
}`;

describe("orthanc.json templates", () => {
  it("parses bare references and writes them back bare, quoted ones stay strings", () => {
    const parsed = parseTemplate(template, "test");
    expect(parsed.Name).toBe("Orthanc");
    const text = stringifyTemplate(parsed);
    expect(text).toContain('"Port": ${PG_PORT}');
    expect(text).toContain('"HttpPort": ${HTTP_PORT:-8042}');
    expect(text).toContain('"${ADMIN_USER}": "${ADMIN_PASSWORD}"');
    expect(text).toContain('"Quoted": "a \\"${NOT_BARE}\\" b"');
    expect(parseTemplate(text, "again")).toEqual(parsed);
  });

  it("substitutes like Orthanc: value, empty when unset, :- default with quotes removed", () => {
    expect(substitute("${A}-${B}-${C:-x}-${D:-\"y\"}-${E:-'z'}", { A: "1", C: "" })).toBe("1--x-y-z");
    const resolved = resolveTemplate(template, { ADMIN_USER: "admin", ADMIN_PASSWORD: "pw", PG_PORT: "5433", PG_PASSWORD: "secret" }, "test");
    expect(resolved.HttpPort).toBe(8042);
    expect(resolved.RegisteredUsers).toEqual({ admin: "pw" });
    expect((resolved.PostgreSQL as Record<string, unknown>).Port).toBe(5433);
    expect(referencedVariables(template).sort()).toEqual(["ADMIN_PASSWORD", "ADMIN_USER", "HTTP_PORT", "NOT_BARE", "PG_PASSWORD", "PG_PORT"]);
  });

  it("names the problem when the template or its substitution is not JSON", () => {
    expect(() => parseTemplate('{"a": ${X} ${Y}}', "bad.json")).toThrow(/bad.json is not valid JSON/);
    let error: TaskError | undefined;
    try {
      resolveTemplate('{"a": "${X}"}', { X: 'say "hi"' }, "quoted.json");
    } catch (caught) {
      error = caught as TaskError;
    }
    expect(error?.message).toMatch(/quoted.json is not valid JSON once its \$\{VAR\} references are replaced/);
    expect(error?.hint).toMatch(/quote or backslash/);
  });

  it("applies an overlay by merging objects and replacing the rest, and reports exactly the paths it changed", () => {
    const base = parseTemplate(template, "test");
    const overlay = { PostgreSQL: { Host: "127.0.0.1", Port: 55432 }, Plugins: ["/a.so"] };
    const merged = applyOverlay(base, overlay);
    expect((merged.PostgreSQL as Record<string, unknown>).Password).toBe("${PG_PASSWORD}");
    expect(differingPaths(base, merged).sort()).toEqual(["Plugins", "PostgreSQL.Host", "PostgreSQL.Port"]);
    expect(overlayPaths(overlay).sort()).toEqual(["Plugins", "PostgreSQL.Host", "PostgreSQL.Port"]);
    expect(base.Plugins).toBeUndefined();
  });
});
