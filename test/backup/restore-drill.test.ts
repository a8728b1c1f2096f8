// The restore drill on the local stack (real PostgreSQL 15, real Orthanc with
// the PostgreSQL plugins, haproxy standing in for the ingress): 300 instances
// of 1 KB to 2 MB stored over DICOM-TLS, a backup taken while a sender keeps
// storing, a restore refused over live data, the database dropped, the
// restore, every instance byte-identical over HTTPS, one more stored.
// Prints the RPO/RTO figures (backup and restore times and sizes).
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drillCallingAets, drillMix, figuresLine, runDrill, type DrillFigures } from "../../proving-ground/backup/drill.ts";
import { ScratchStack } from "../../proving-ground/local/scratch-stack.ts";
import { useCapturedLog } from "../helpers/log.ts";

const ports = { https: 26443, dicom: 26112, postgresql: 26432, orthancHttp: 26042, orthancDicom: 26242 };
const dir = mkdtempSync(join(tmpdir(), "korthweb-drill-"));

describe("restore drill: back up under ingest, destroy, restore, every instance byte-identical", () => {
  useCapturedLog();
  let stack: ScratchStack;
  const stages = new Map<string, Record<string, any>>();
  let figures: DrillFigures;

  beforeAll(async () => {
    stack = await ScratchStack.up({ dir, ports, callingAets: Object.values(drillCallingAets) });
    figures = await runDrill(stack, { mix: drillMix, backupDir: join(dir, "backups"), onStage: (stage, detail) => void stages.set(stage, detail) });
    console.log(figuresLine("restore-drill", figures));
  }, 900_000);

  afterAll(async () => {
    await stack?.down();
  }, 120_000);

  it("stored 300 instances of 1 KB to 2 MB over DICOM-TLS, each found over HTTPS", () => {
    expect(stages.get("stored")).toEqual({ instances: 300, found: 300 });
  });

  it("backed up while a sender kept storing: one custom-format dump with the large objects, in the folder asked for", () => {
    const { backup, dumpBytesOnDisk, storedDuringBackup, instancesNow } = stages.get("backed-up")!;
    expect(backup.file).toMatch(/\/backups\/orthanc-\d{8}T\d{6}Z\.dump$/);
    expect(backup.bytes).toBe(dumpBytesOnDisk);
    // The dump holds the DICOM files: it cannot be smaller than a fraction of the random pixel data.
    expect(backup.bytes).toBeGreaterThan(figures.storedBytes * 0.9);
    expect(storedDuringBackup.acknowledged).toBeGreaterThan(0);
    expect(storedDuringBackup.silent).toBe(0);
    expect(instancesNow).toBe(300 + storedDuringBackup.acknowledged);
    expect(readdirSync(join(dir, "backups")).filter((name) => name.endsWith(".dump"))).toHaveLength(1);
  });

  it("refused to restore over a database holding data without the confirmation, creating nothing", () => {
    const { error, databases } = stages.get("refused")!;
    expect(error.code).toBe("usage");
    expect(error.message).toMatch(/database "orthanc" of the local stack holds \d+ Orthanc resources; a restore replaces them/);
    expect(error.hint).toContain("--yes-replace");
    expect(databases.split(",").filter((name: string) => name.startsWith("orthanc"))).toEqual(["orthanc"]);
  });

  it("the database was really gone: Orthanc started on an empty one", () => {
    expect(stages.get("destroyed")).toEqual({ instances: 0 });
  });

  it("restored: every instance stored before the backup is back, every file byte-identical, nothing that was never stored", () => {
    const { restore, instances, missing, differing, unknown, databases } = stages.get("restored")!;
    expect({ missing, differing, unknown }).toEqual({ missing: [], differing: [], unknown: [] });
    expect(instances).toBeGreaterThanOrEqual(300);
    expect(instances).toBe(restore.instances);
    expect(restore.largeObjects).toBeGreaterThanOrEqual(300);
    // The empty database it replaced is kept, renamed; no restore database is left over.
    expect(restore.previous).toMatch(/^orthanc_before_\d{8}t\d{6}z$/i);
    expect(databases.split(",").filter((name: string) => name.startsWith("orthanc")).sort()).toEqual(["orthanc", restore.previous].sort());
  });

  it("Orthanc works on the restored data: one more instance stored and found", () => {
    const { acknowledged, instances, expected } = stages.get("stored-after")!;
    expect(acknowledged).toBe(1);
    expect(instances).toBe(expected);
  });
});
