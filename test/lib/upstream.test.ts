// --skip-upstream: the flag or KORTHWEB_SKIP_UPSTREAM=1 turns it on; a skipped
// install still demands the CRDs it would have brought (checked with the real
// kubectl against a stand-in API server), and touches nothing in --dry-run.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../tasks/lib/errors.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { skipsUpstream } from "../../tasks/lib/upstream.ts";
import { task as traefikTask, traefikCrds } from "../../tasks/helm/03-traefik.ts";
import { task as postgresqlTask } from "../../tasks/helm/04-postgresql.ts";
import { startFakeApiServer, writeKubeconfig, type FakeApiServer } from "../helpers/fake-apiserver.ts";
import { useCapturedLog } from "../helpers/log.ts";

const lines = useCapturedLog();
const output = () => lines.join("\n");

describe("skipsUpstream", () => {
  it("is on with the flag or with KORTHWEB_SKIP_UPSTREAM=1, off otherwise", () => {
    expect(skipsUpstream({ flags: { "skip-upstream": true } }, {})).toBe(true);
    expect(skipsUpstream({ flags: {} }, { KORTHWEB_SKIP_UPSTREAM: "1" })).toBe(true);
    expect(skipsUpstream({ flags: {} }, { KORTHWEB_SKIP_UPSTREAM: "0" })).toBe(false);
    expect(skipsUpstream({ flags: {} }, {})).toBe(false);
  });
});

describe("helm steps 3 and 4 with --skip-upstream", () => {
  const saved = process.env.KUBECONFIG;
  let withCrds: FakeApiServer;
  let withoutCrds: FakeApiServer;
  beforeAll(async () => {
    withCrds = await startFakeApiServer({ version: "v1.35.4", crds: traefikCrds });
    withoutCrds = await startFakeApiServer({ version: "v1.35.4", crds: traefikCrds.slice(1) });
  });
  afterAll(async () => {
    await withCrds.close();
    await withoutCrds.close();
  });
  afterEach(() => {
    process.env.KUBECONFIG = saved;
  });

  it("Traefik: installs nothing, succeeds when its CRDs are there", async () => {
    process.env.KUBECONFIG = writeKubeconfig(withCrds.url);
    expect(await runTasks(traefikTask.id, [traefikTask], ["--skip-upstream"]), output()).toBe(0);
    expect(output()).toContain("[skip-upstream] not installing Traefik");
    expect(output()).not.toContain("$ helm");
  });

  it("Traefik: fails with the missing-CRD exit code, naming the CRD, when one is absent", async () => {
    process.env.KUBECONFIG = writeKubeconfig(withoutCrds.url);
    expect(await runTasks(traefikTask.id, [traefikTask], ["--skip-upstream"])).toBe(ExitCode.missingCrd);
    expect(output()).toContain(traefikCrds[0]);
  });

  it("PostgreSQL in --dry-run with KORTHWEB_SKIP_UPSTREAM=1: says it skips, plans no helm install", async () => {
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1");
    process.env.KORTHWEB_SKIP_UPSTREAM = "1";
    try {
      expect(await runTasks(postgresqlTask.id, [postgresqlTask], ["--dry-run"]), output()).toBe(0);
    } finally {
      delete process.env.KORTHWEB_SKIP_UPSTREAM;
    }
    expect(output()).toContain("[skip-upstream] not installing PostgreSQL");
    expect(output()).not.toContain("would run: helm");
  });
});
