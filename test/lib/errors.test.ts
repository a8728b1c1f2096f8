// Exit codes are an interface for scripts: each is distinct, and the README's
// list says the same as tasks/lib/errors.ts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ExitCode, TaskError, describeError, exitCodeOf } from "../../tasks/lib/errors.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";

describe("exit codes", () => {
  it("are distinct", () => {
    const codes = Object.values(ExitCode);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("are each listed in the README with their number", () => {
    const readme = readFileSync(fromRoot("README.md"), "utf8").replace(/\s+/g, " ");
    const list = readme.slice(readme.indexOf("Exit codes of every task"));
    for (const [name, code] of Object.entries(ExitCode)) {
      if (code === 0) continue;
      expect(list, `README lacks exit code ${code} (${name})`).toMatch(new RegExp(`[ ,:]${code} [a-zA-Z]`));
    }
    expect(list).not.toMatch(new RegExp(`, ${Math.max(...Object.values(ExitCode)) + 1} `));
  });

  it("come from TaskError, 1 for anything else; the hint follows the message", () => {
    const error = new TaskError("namespace orthanc belongs to the helm approach", { code: "namespaceTaken", hint: "make helm-uninstall first" });
    expect(exitCodeOf(error)).toBe(11);
    expect(exitCodeOf(new Error("boom"))).toBe(1);
    expect(describeError(error)).toBe("namespace orthanc belongs to the helm approach\n  → make helm-uninstall first");
  });
});
