// The chart's unit tests live next to it (helm/orthanc/tests/*_test.yaml) and
// run with helm-unittest, pinned and built from the Go module proxy, as the
// helm plugin `unittest` (.tools/helm-plugins). This test runs them so that
// `make test` fails when one fails, and checks that every test job written in
// the suites ran (a suite that does not parse must not pass by running nothing).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import { toolsBinDir } from "../../tasks/lib/paths.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { ensureUnittestPlugin } from "../../tasks/setup/helm-plugins.ts";
import { chartDir } from "../helpers/chart.ts";

const suitesDir = join(chartDir, "tests");
const suites = readdirSync(suitesDir).filter((name) => name.endsWith("_test.yaml"));
const writtenJobs = suites.reduce((sum, name) => sum + [...readFileSync(join(suitesDir, name), "utf8").matchAll(/^ {2}- it: /gm)].length, 0);

describe("helm unittest helm/orthanc", () => {
  it("every suite passes, and every test job in them ran", async () => {
    expect(existsSync(join(toolsBinDir, "helm-unittest")), "helm-unittest is not built: run `make setup-go-tools` (make test does)").toBe(true);
    const result = await run(requireToolPath("helm"), ["unittest", "--strict", chartDir], {
      env: { HELM_PLUGINS: ensureUnittestPlugin() },
      silent: true,
      allowFailure: true,
      timeoutMs: 120_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.exitCode, output).toBe(0);
    const tests = /Tests:\s+(\d+) passed,\s+(\d+) total/.exec(output);
    expect(tests, output).not.toBeNull();
    expect(Number(tests![2]), `test jobs run vs written in ${suites.length} suites`).toBe(writtenJobs);
    expect(Number(tests![1])).toBe(writtenJobs);
    expect(output).toMatch(new RegExp(`Test Suites:\\s+${suites.length} passed`));
  }, 180_000);
});
