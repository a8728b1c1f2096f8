// Known-bad fixtures must fail for the stated reason, naming file and field;
// known-good ones must pass. Each bad fixture states what it expects in
// "# expect: rule | path | message part" lines.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatFinding } from "../../proving-ground/validate/finding.ts";
import { validateText } from "../../proving-ground/validate/validate.ts";

const dir = join(import.meta.dirname, "..", "fixtures", "validate");
const files = (kind: "good" | "bad") => readdirSync(join(dir, kind)).filter((name) => name.endsWith(".yaml"));

interface Expectation {
  rule: string;
  path: string;
  message: string;
}

function expectations(text: string): Expectation[] {
  return [...text.matchAll(/^# expect: (.*)$/gm)].map((match) => {
    const [rule = "", path = "", message = ""] = match[1]!.split("|").map((part) => part.trim());
    return { rule, path, message };
  });
}

describe("validator on known-good fixtures", () => {
  it.each(files("good"))("%s has no findings", async (name) => {
    const findings = await validateText(readFileSync(join(dir, "good", name), "utf8"), `good/${name}`, { committed: true });
    expect(findings.map(formatFinding)).toEqual([]);
  });
});

describe("validator on known-bad fixtures", () => {
  it("every bad fixture states what it expects", () => {
    for (const name of files("bad")) expect(expectations(readFileSync(join(dir, "bad", name), "utf8")), name).not.toHaveLength(0);
  });

  it.each(files("bad"))("%s fails for the stated reason", async (name) => {
    const text = readFileSync(join(dir, "bad", name), "utf8");
    const findings = await validateText(text, `bad/${name}`, { committed: true });
    for (const want of expectations(text)) {
      const match = findings.find((f) => f.rule === want.rule && f.path === want.path && f.message.includes(want.message));
      expect(match, `${name}: expected [${want.rule}] at ${want.path} "${want.message}", got:\n${findings.map(formatFinding).join("\n")}`).toBeDefined();
      expect(formatFinding(match!)).toContain(`bad/${name}`);
    }
  });

  it("a Secret with data passes when rendered at install time, fails when committed", async () => {
    const text = readFileSync(join(dir, "bad", "committed-secret.yaml"), "utf8");
    expect(await validateText(text, "rendered", { committed: false })).toEqual([]);
    expect((await validateText(text, "committed", { committed: true })).map((f) => f.rule)).toEqual(["credentials"]);
  });
});
