// Every file under manual/ is clean under `make validate`, and the validator
// still catches a broken copy of them.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { files } from "../../tasks/manual/layout.ts";
import { manualSources } from "../../proving-ground/validate/sources.ts";
import { validateSources, validateText } from "../../proving-ground/validate/validate.ts";

describe("make validate over manual/", () => {
  it("finds nothing in any file under manual/", async () => {
    const results = await validateSources(manualSources());
    const findings = results.flatMap((r) => r.findings).map((f) => `${f.file}: ${f.object}: ${f.path}: [${f.rule}] ${f.message}`);
    expect(findings).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(22);
    expect(results.reduce((sum, r) => sum + r.objects, 0)).toBeGreaterThanOrEqual(30);
  });

  it("reports a broken copy: an unknown field, a plaintext credential, a Secret with data", async () => {
    const label = relative(repoRoot, files.orthanc);
    const text = readFileSync(files.orthanc, "utf8");
    const unknown = await validateText(text.replace("revisionHistoryLimit: 5", "revisionHistoryLimit: 5\n  replica: 3"), label, { committed: true });
    expect(unknown.map((f) => f.rule)).toContain("unknown-field");
    const leaked = await validateText(text.replace('"${ORTHANC_DB_PASSWORD}"', '"hunter2hunter2"'), label, { committed: true });
    expect(leaked.length).toBeGreaterThan(0);
    const secret = await validateText("apiVersion: v1\nkind: Secret\nmetadata: {name: x, namespace: orthanc}\nstringData: {password: abc}\n", "manual/x.yaml", { committed: true });
    expect(secret.length).toBeGreaterThan(0);
  });
});
