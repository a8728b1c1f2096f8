// `make backup-bench`: the restore drill with ~1 GB of DICOM (SIZE_MB) on a
// scratch local stack of its own ports and folder, printing backup and
// restore times and sizes — the RPO/RTO figures of docs/backup.md. Figures
// are printed, never asserted (a loaded machine is slower, not wrong).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { describeError, exitCodeOf, TaskError } from "../../tasks/lib/errors.ts";
import { log } from "../../tasks/lib/log.ts";
import { ScratchStack } from "../local/scratch-stack.ts";
import { benchMix, drillCallingAets, figuresLine, runDrill } from "./drill.ts";

const usage = `usage: node proving-ground/backup/bench.ts [--size-mb N]

Starts a scratch local stack (PostgreSQL, Orthanc, haproxy on ports 27xxx, in a
temporary folder), stores about N MB of DICOM (default 1024) over DICOM-TLS,
backs it up while a sender keeps storing, drops the database, restores it,
checks every instance byte for byte, prints the figures, and stops the stack.`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: "boolean" }, "size-mb": { type: "string" } }, strict: true });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const sizeMb = Number(values["size-mb"] ?? 1024);
  if (!Number.isInteger(sizeMb) || sizeMb < 8 || sizeMb > 65_536) throw new TaskError(`invalid --size-mb "${values["size-mb"]}": expected a whole number from 8 to 65536`, { code: "usage" });
  const dir = mkdtempSync(join(tmpdir(), "korthweb-backup-bench-"));
  const stack = await ScratchStack.up({ dir, ports: { https: 27443, dicom: 27112, postgresql: 27432, orthancHttp: 27042, orthancDicom: 27242 }, callingAets: Object.values(drillCallingAets) });
  try {
    const figures = await runDrill(stack, { mix: benchMix(sizeMb), backupDir: join(dir, "backups"), runId: `bench-${Date.now()}` });
    process.stdout.write(`${figuresLine(`backup-bench ${sizeMb} MB`, figures)}\n`);
    log.ok(`${figures.instances} instances, every one byte-identical after the restore`);
  } finally {
    await stack.down();
  }
}

try {
  await main();
} catch (error) {
  log.error(describeError(error));
  process.exitCode = exitCodeOf(error);
}
