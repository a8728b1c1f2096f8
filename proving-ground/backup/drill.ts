// The restore drill, on a scratch local stack (real PostgreSQL, real Orthanc,
// the TLS terminator standing in for the ingress): store instances of mixed
// sizes over DICOM-TLS, read every file back over HTTPS (SHA-256), back up
// while a sender keeps storing, destroy the database, restore, and check that
// every instance is there byte for byte and Orthanc still takes a new one.
// Used by test/backup/restore-drill.test.ts (asserts) and bench.ts (~1 GB,
// figures only). Times measured here are the RPO/RTO figures of docs/backup.md.
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { dicomEndpoint } from "../../smoke/checks.ts";
import { Ingest, tally, type SentInstance } from "../../smoke/ingest.ts";
import { RestClient } from "../../smoke/rest.ts";
import { localBackup, localRestore } from "../local/backup.ts";
import type { BackupResult, RestoreResult } from "../../tasks/backup/scripts.ts";
import { TaskError } from "../../tasks/lib/errors.ts";
import { log } from "../../tasks/lib/log.ts";
import type { ScratchStack } from "../local/scratch-stack.ts";

/** How many instances of which pixel size (bytes) to store. */
export type SizeMix = readonly { count: number; pixelBytes: number }[];

/** A few hundred instances from 1 KB to 2 MB (~60 MB): the drill of make test (each count a multiple of 4 senders × its batch: stored exactly). */
export const drillMix: SizeMix = [
  { count: 120, pixelBytes: 1024 },
  { count: 96, pixelBytes: 32 * 1024 },
  { count: 64, pixelBytes: 256 * 1024 },
  { count: 20, pixelBytes: 2 * 1024 * 1024 },
];

/** About `megabytes` of 4 MB instances plus some small ones: the bench. */
export const benchMix = (megabytes: number): SizeMix => [
  { count: 100, pixelBytes: 16 * 1024 },
  { count: Math.max(1, Math.round(megabytes / 4)), pixelBytes: 4 * 1024 * 1024 },
];

export interface DrillFigures {
  instances: number;
  storedBytes: number;
  storeSeconds: number;
  storedDuringBackup: number;
  backup: BackupResult;
  restore: RestoreResult;
  /** The database's size on the server before the backup (pg_database_size). */
  databaseBytes: number;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** Stores each part of the mix over DICOM-TLS through the proxy (4 senders); every instance must be acknowledged. */
/** The drill's calling AE titles; the stack must register them (dicom.modalities): Orthanc refuses unknown ones. */
export const drillCallingAets = { stores: "KORTHWEB-DRILL", during: "KORTHWEB-DURING" } as const;

export async function storeMix(stack: ScratchStack, mix: SizeMix, runId: string): Promise<SentInstance[]> {
  const target = stack.target();
  const records: SentInstance[] = [];
  for (const [index, part] of mix.entries()) {
    // Associations of at most ~32 MB or 10 instances, as a modality sends a series: 4 senders, several each.
    const senders = Math.min(4, part.count);
    const perSender = Math.ceil(part.count / senders);
    const batchLimit = Math.max(1, Math.min(10, Math.floor((32 * 1024 * 1024) / part.pixelBytes)));
    const associations = Math.ceil(perSender / batchLimit);
    const batch = Math.ceil(perSender / associations);
    const ingest = new Ingest({ endpoint: dicomEndpoint(target, drillCallingAets.stores), calledAet: target.calledAet, senders, batch, pixelBytes: part.pixelBytes, runId: `${runId}-${index}`, timeoutMs: 300_000 });
    await ingest.run(associations);
    const counts = tally(ingest.records);
    const cause = ingest.records.find((record) => record.fate !== "acknowledged")?.cause;
    if (counts.acknowledged !== counts.sent) throw new Error(`storing ${part.count} × ${part.pixelBytes} B: ${JSON.stringify(counts)}${cause ? `; first failure: ${cause}` : ""}`);
    records.push(...ingest.records);
  }
  return records;
}

/** Every stored instance's Orthanc ID → SHA-256 of its file as GET /instances/{id}/file serves it. */
export async function fileHashes(rest: RestClient): Promise<Map<string, string>> {
  const ids = await rest.json<string[]>({ path: "/instances", timeoutMs: 120_000 });
  if (ids.status !== 200 || !ids.value) throw new Error(`GET /instances answered ${ids.status}`);
  const hashes = new Map<string, string>();
  const queue = [...ids.value];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const file = await rest.send({ path: `/instances/${id}/file`, timeoutMs: 120_000 });
        if (file.status !== 200) throw new Error(`GET /instances/${id}/file answered ${file.status}`);
        hashes.set(id, sha256(file.body));
      }
    }),
  );
  return hashes;
}

async function databaseBytes(stack: ScratchStack): Promise<number> {
  const name = stack.runtime().facts.database.name.replaceAll("'", "''");
  return Number(await stack.postgresql().sql(`SELECT pg_database_size('${name}');`));
}

/** Stops Orthanc, drops its database and starts again on an empty one, as after losing the data. */
export async function destroyDatabase(stack: ScratchStack): Promise<void> {
  for (const instance of stack.instances()) await stack.orthanc(instance.number).stop();
  const name = stack.runtime().facts.database.name;
  await stack.postgresql().sql(`DROP DATABASE "${name.replaceAll('"', '""')}";`);
  log.ok(`dropped database "${name}"`);
  // The stack's steps recreate it empty and start Orthanc on it, as a fresh install would.
  await stack.ensureUp();
}

export interface DrillOptions {
  mix: SizeMix;
  backupDir: string;
  runId?: string;
  /** Called with what was found at each stage (the test asserts on it). */
  onStage?: (stage: string, detail: Record<string, unknown>) => void | Promise<void>;
}

/** The whole drill; throws on any mismatch. Returns the figures. */
export async function runDrill(stack: ScratchStack, options: DrillOptions): Promise<DrillFigures> {
  const runId = options.runId ?? `drill-${Date.now()}`;
  const rest = new RestClient(stack.target());
  try {
    const storeStarted = performance.now();
    const stored = await storeMix(stack, options.mix, runId);
    const storeSeconds = (performance.now() - storeStarted) / 1000;
    const before = await fileHashes(rest);
    const storedBytes = stored.reduce((sum, record) => sum + record.instance.pixelBytes, 0);
    await options.onStage?.("stored", { instances: stored.length, found: before.size });

    // Backup while a sender keeps storing: pg_dump reads one snapshot.
    const dbBytes = await databaseBytes(stack);
    let backupDone = false;
    const target = stack.target();
    const during = new Ingest({ endpoint: dicomEndpoint(target, drillCallingAets.during), calledAet: target.calledAet, senders: 1, batch: 5, pixelBytes: 8 * 1024, runId: `${runId}-during` });
    const sending = during.runUntil(() => backupDone);
    let backup: BackupResult | undefined;
    try {
      backup = await localBackup(stack.settings, { dir: options.backupDir, keep: 3 });
    } finally {
      backupDone = true;
      await sending;
    }
    if (!backup) throw new Error("the backup returned nothing");
    const duringCounts = tally(during.records);
    const afterBackup = await fileHashes(rest);
    await options.onStage?.("backed-up", { backup, dumpBytesOnDisk: statSync(backup.file).size, storedDuringBackup: duringCounts, instancesNow: afterBackup.size });

    // A restore over live data needs the confirmation, and changes nothing without it.
    const refused = await localRestore(stack.settings, backup.file).then(
      () => undefined,
      (error: unknown) => error,
    );
    await options.onStage?.("refused", { error: refused instanceof TaskError ? { message: refused.message, code: refused.code, hint: refused.hint } : String(refused), databases: await stack.postgresql().sql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database;") });

    await destroyDatabase(stack);
    const empty = await rest.json<string[]>({ path: "/instances" });
    await options.onStage?.("destroyed", { instances: empty.value?.length });

    const restore = await localRestore(stack.settings, backup.file);
    if (!restore) throw new Error("the restore returned nothing");
    const after = await fileHashes(rest);
    const missing = [...before.keys()].filter((id) => !after.has(id));
    const differing = [...after.entries()].filter(([id, hash]) => afterBackup.get(id) !== hash).map(([id]) => id);
    const unknown = [...after.keys()].filter((id) => !afterBackup.has(id));
    await options.onStage?.("restored", { restore, instances: after.size, missing, differing, unknown, databases: await stack.postgresql().sql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database;") });
    if (missing.length || differing.length || unknown.length) throw new Error(`after the restore: ${missing.length} missing, ${differing.length} differing, ${unknown.length} never stored`);

    // Orthanc keeps working on the restored data.
    const more = await storeMix(stack, [{ count: 1, pixelBytes: 4096 }], `${runId}-after`);
    const final = await fileHashes(rest);
    await options.onStage?.("stored-after", { acknowledged: tally(more).acknowledged, instances: final.size, expected: after.size + 1 });

    return { instances: stored.length, storedBytes, storeSeconds, storedDuringBackup: duringCounts.acknowledged, backup, restore, databaseBytes: dbBytes };
  } finally {
    rest.close();
  }
}

/** One line of figures, as the test and the bench print them. */
export function figuresLine(name: string, figures: DrillFigures): string {
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  return `[backup] ${name} ${JSON.stringify({
    instances: figures.instances,
    pixelMB: mb(figures.storedBytes),
    databaseMB: mb(figures.databaseBytes),
    storeSeconds: figures.storeSeconds.toFixed(1),
    storedDuringBackup: figures.storedDuringBackup,
    dumpMB: mb(figures.backup.bytes),
    backupSeconds: figures.backup.seconds,
    restoreLoadSeconds: figures.restore.loadSeconds.toFixed(1),
    orthancDownSeconds: figures.restore.downtimeSeconds.toFixed(1),
    rtoSeconds: (figures.restore.loadSeconds + figures.restore.downtimeSeconds).toFixed(1),
  })}`;
}
