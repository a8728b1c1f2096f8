// CloudNativePG and Barman Cloud Plugin objects are validated strictly
// by kubeconform against the CRDs of the pinned upstream Go modules (proving-ground/validate/crd-models.ts):
// what helm/orthanc-db-cnpg renders is clean, and broken copies are caught.
import { describe, expect, it } from "vitest";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { run } from "../../tasks/lib/exec.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { formatFinding } from "../../proving-ground/validate/finding.ts";
import { validateObjects } from "../../proving-ground/validate/validate.ts";

async function renderCnpg(values: string[] = []): Promise<KubeObject[]> {
  const { stdout } = await run(requireToolPath("helm"), ["template", "db", fromRoot("helm", "orthanc-db-cnpg"), "-n", "orthanc", ...values.flatMap((v) => ["--set", v])], { silent: true });
  return parseManifests(stdout, "orthanc-db-cnpg").map((item) => item.object);
}

const findings = async (objects: readonly KubeObject[]) =>
  (await validateObjects(objects.map((object, index) => ({ object, source: "test", index })), { committed: false })).map(formatFinding);

describe("CloudNativePG objects against their upstream CRDs", () => {
  it("the chart renders a Cluster, an ObjectStore, a ScheduledBackup and a NetworkPolicy, all valid", async () => {
    const objects = await renderCnpg();
    expect(objects.map((o) => `${String(o.apiVersion)} ${String(o.kind)}`).sort()).toEqual([
      "barmancloud.cnpg.io/v1 ObjectStore",
      "networking.k8s.io/v1 NetworkPolicy",
      "postgresql.cnpg.io/v1 Cluster",
      "postgresql.cnpg.io/v1 ScheduledBackup",
    ]);
    expect(await findings(objects)).toEqual([]);
  }, 180_000);

  it("catches unknown fields, wrong types and missing required fields in each kind", async () => {
    const objects = await renderCnpg();
    const kind = (name: string) => objects.find((o) => o.kind === name)!;
    const broken = structuredClone([kind("Cluster"), kind("ObjectStore"), kind("ScheduledBackup")]) as any[];
    broken[0].spec.instancez = 3;
    broken[0].spec.instances = "two";
    delete broken[1].spec.configuration.destinationPath;
    broken[2].spec.method = "pg_dump";
    const found = await findings(broken);
    expect(found).toContainEqual(expect.stringMatching(/Cluster orthanc\/orthanc-db: spec\.instancez: \[unknown-field\]/));
    expect(found).toContainEqual(expect.stringMatching(/Cluster orthanc\/orthanc-db: spec\.instances: \[schema\] must be integer/));
    expect(found).toContainEqual(expect.stringMatching(/ObjectStore orthanc\/orthanc-db-store: spec\.configuration\.destinationPath: \[schema\] required field is missing/));
    expect(found).toContainEqual(expect.stringMatching(/ScheduledBackup orthanc\/orthanc-db-daily: spec\.method: \[schema\] must be one of/));
  }, 180_000);

  it("refuses backups without the bucket's Secret, naming the value", async () => {
    const result = await run(requireToolPath("helm"), ["template", "db", fromRoot("helm", "orthanc-db-cnpg"), "--set", "backup.objectStore.existingSecret="], { silent: true, allowFailure: true });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("backup.objectStore.existingSecret: required when backup.enabled is true");
  });
});
