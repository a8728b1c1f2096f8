// Every script the Makefile runs answers --help at once, with exit 0 and a
// usage text, and does nothing else: --help is the safe way to learn a command
// (a script that ignored it once started a several-minute build).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";

const run = promisify(execFile);

const makefileScripts = [...new Set([...readFileSync(fromRoot("Makefile"), "utf8").matchAll(/\$\(NODE\) (\S+\.ts)/g)].map((match) => match[1]!))].sort();

describe("--help of every script the Makefile runs", () => {
  it("finds the scripts in the Makefile", () => {
    expect(makefileScripts.length).toBeGreaterThanOrEqual(15);
  });

  it.each(makefileScripts)("%s --help: exit 0, a usage text, within seconds", async (script) => {
    // Tools pointed at nothing: a script that went on past --help and called them would fail.
    const env = { ...process.env, KORTHWEB_KUBECTL: "/nonexistent/kubectl", KORTHWEB_HELM: "/nonexistent/helm", KUBECONFIG: "/nonexistent/kubeconfig" };
    const { stdout, stderr } = await run(process.execPath, [script, "--help"], { cwd: repoRoot, env, timeout: 20_000 });
    const text = `${stdout}${stderr}`;
    expect(text).toMatch(/usage|Flags:|--help/i);
    expect(text).not.toMatch(/✗|Error/);
  }, 30_000);
});
