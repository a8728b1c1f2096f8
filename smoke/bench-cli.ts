// `make bench`: runs the C-STORE benchmark against the target (the local stack
// by default), prints a table and the ratios the project aims for, writes a
// JSON report. Exits non-zero only when stores fail; figures are not asserted.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TaskError } from "../tasks/lib/errors.ts";
import { log, progress, style } from "../tasks/lib/log.ts";
import { displayPath, workDir } from "../tasks/lib/paths.ts";
import { main, type Task } from "../tasks/lib/task.ts";
import { benchPaths, deleteRun, runOurs, runStorescu, warmUp, type BenchRun, type BenchSize, type ClientName, type PathName } from "./bench.ts";
import { discoverTarget, TargetOptions, targetFlags } from "./discover.ts";
import { localTargetFile } from "./target.ts";

const positive = (raw: unknown, name: string, fallback: number): number => {
  if (typeof raw !== "string") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 100_000) throw new TaskError(`invalid --${name} "${raw}": expected a whole number ≥ 1`, { code: "usage" });
  return value;
};

function hasStorescu(): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, "storescu")));
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits));

function row(run: BenchRun): string {
  return [
    run.client.padEnd(12),
    run.path.padEnd(8),
    run.size.padEnd(7),
    String(run.count).padStart(5),
    String(run.concurrency).padStart(5),
    fixed(run.seconds, 2).padStart(8),
    fixed(run.instancesPerSecond, 1).padStart(8),
    fixed(run.megabytesPerSecond, 1).padStart(7),
    fixed(run.p50Ms, 1).padStart(7),
    fixed(run.p95Ms, 1).padStart(7),
    String(run.failures).padStart(6),
    (run.range ? `${fixed(run.range[0], 1)}–${fixed(run.range[1], 1)}` : "-").padStart(12),
    run.note ? `  ${run.note}` : "",
  ].join(" ");
}

const header = style.bold(
  `  ${"client".padEnd(12)} ${"path".padEnd(8)} ${"size".padEnd(7)} ${"n".padStart(5)} ${"conc".padStart(5)} ${"seconds".padStart(8)} ${"inst/s".padStart(8)} ${"MB/s".padStart(7)} ${"p50 ms".padStart(7)} ${"p95 ms".padStart(7)} ${"failed".padStart(6)} ${"inst/s range".padStart(12)}`,
);

/** The run with the median throughput; its failures are the sum over all runs. */
export function medianRun(attempts: readonly BenchRun[]): BenchRun {
  const sorted = [...attempts].sort((a, b) => a.instancesPerSecond - b.instancesPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const failures = attempts.reduce((sum, run) => sum + run.failures, 0);
  const note = attempts.find((run) => run.note)?.note;
  const range: [number, number] = [sorted[0]!.instancesPerSecond, sorted[sorted.length - 1]!.instancesPerSecond];
  return { ...median, failures, ...(note ? { note } : {}), repeats: attempts.length, range };
}

export interface Ratio {
  what: string;
  value: number;
  target: number;
}

export function ratios(runs: readonly BenchRun[]): Ratio[] {
  const find = (client: ClientName, path: PathName, size: string) => runs.find((r) => r.client === client && r.path === path && r.size === size);
  const out: Ratio[] = [];
  for (const size of [...new Set(runs.map((r) => r.size))]) {
    const ingress = find("dcmjs-dimse", "ingress", size);
    const direct = find("dcmjs-dimse", "direct", size);
    if (ingress && direct) out.push({ what: `ingress/direct throughput, ${size} (dcmjs-dimse)`, value: ingress.instancesPerSecond / direct.instancesPerSecond, target: 0.9 });
    const storescuIngress = find("storescu", "ingress", size);
    const storescuDirect = find("storescu", "direct", size);
    if (storescuIngress && storescuDirect) {
      out.push({ what: `ingress/direct throughput, ${size} (storescu)`, value: storescuIngress.instancesPerSecond / storescuDirect.instancesPerSecond, target: 0.9 });
    }
    for (const path of ["ingress", "direct"] as const) {
      const ours = find("dcmjs-dimse", path, size);
      const reference = find("storescu", path, size);
      if (ours && reference) out.push({ what: `dcmjs-dimse/storescu throughput, ${size}, ${path}`, value: ours.instancesPerSecond / reference.instancesPerSecond, target: 0.8 });
    }
  }
  return out;
}

export const benchTask: Task = {
  id: "bench",
  title: "Benchmark: C-STORE through the TLS ingress and directly, dcmjs-dimse vs storescu",
  summary:
    "C-STOREs N generated instances, small (~1 KB) and large (~512 KB), over C concurrent associations: through the TLS ingress and, " +
    "on the local stack, straight to Orthanc; with our client and with dcmtk storescu when installed. Prints instances/s, MB/s, " +
    "per-instance p50/p95 and the ratios; deletes what it stored. Figures are printed, not asserted.",
  flags: {
    ...targetFlags,
    small: { type: "string", description: "number of small (~1 KB) instances per run (default 200)" },
    large: { type: "string", description: "number of large (~512 KB) instances per run (default 40)" },
    concurrency: { type: "string", description: "concurrent associations (default 4)" },
    repeat: { type: "string", description: "runs per case; the median is shown, with the range (default 5)" },
    "no-storescu": { type: "boolean", description: "skip the dcmtk storescu reference runs" },
    report: { type: "string", description: "JSON report file (default .work/bench/report.json)" },
  },
  run: async (ctx) => {
    const options = new TargetOptions(ctx.flags);
    const { target } = await discoverTarget(options, ctx.settings, ctx.kube, localTargetFile());
    const sizes: BenchSize[] = [
      { name: "small", pixelBytes: 1024, count: positive(ctx.flags.small, "small", 200) },
      { name: "large", pixelBytes: 512 * 1024, count: positive(ctx.flags.large, "large", 40) },
    ];
    const concurrency = positive(ctx.flags.concurrency, "concurrency", 4);
    const repeat = positive(ctx.flags.repeat, "repeat", 5);
    const paths = benchPaths(target, target.caFile, "KORTHWEB-BENCH");
    const storescu = ctx.flags["no-storescu"] !== true && hasStorescu();
    log.info(`target: ${target.label}`);
    log.info(`paths: ${paths.map((p) => `${p.name} ${p.endpoint.host}:${p.endpoint.port}${p.endpoint.tls ? " (TLS)" : ""}`).join(", ")}; concurrency ${concurrency}`);
    if (!storescu) log.warn("storescu runs skipped (dcmtk not installed, or --no-storescu)");
    if (ctx.dryRun) return;

    const scratch = join(workDir, "bench");
    let sequence = 0;
    // Deleting between runs makes PostgreSQL clean up (vacuum) during the next one: delete at the end.
    const stored: string[] = [];
    for (const path of paths) {
      await warmUp(path, target.calledAet);
      const runId = `KORTHWEB-BENCH-${process.pid}-warm-up`;
      await runOurs(path, { name: "warm-up", pixelBytes: 1024, count: 20 }, concurrency, target.calledAet, runId);
      await deleteRun(target, runId, concurrency);
    }
    // Each case runs `repeat` times, the clients alternating who goes first (a run right after a large
    // delete is slower); the table shows the median run by throughput.
    log.plain(header);
    const runs: BenchRun[] = [];
    for (const size of sizes) {
      for (const path of paths) {
        const clients: ClientName[] = storescu ? ["dcmjs-dimse", "storescu"] : ["dcmjs-dimse"];
        const attempts = new Map<ClientName, BenchRun[]>(clients.map((client) => [client, []]));
        for (let round = 0; round < repeat; round++) {
          for (const client of round % 2 === 0 ? clients : [...clients].reverse()) {
            const runId = `KORTHWEB-BENCH-${process.pid}-${++sequence}`;
            const run =
              client === "dcmjs-dimse"
                ? await runOurs(path, size, concurrency, target.calledAet, runId)
                : await runStorescu(path, size, concurrency, target.calledAet, runId, scratch);
            attempts.get(client)!.push(run);
            stored.push(runId);
          }
        }
        for (const client of clients) {
          const run = medianRun(attempts.get(client)!);
          runs.push(run);
          log.plain(`  ${row(run)}`);
        }
      }
    }
    const cleanup = progress(`deleting the ${stored.length} runs' instances`);
    for (const runId of stored) await deleteRun(target, runId, concurrency);
    cleanup.done();
    log.plain("");
    for (const ratio of ratios(runs)) {
      const verdict = ratio.value >= ratio.target ? style.green(`meets ≥ ${ratio.target}`) : style.yellow(`below the ${ratio.target} target`);
      log.plain(`  ${ratio.what.padEnd(48)} ${ratio.value.toFixed(2)}  ${verdict}`);
    }
    const reportFile = typeof ctx.flags.report === "string" ? ctx.flags.report : join(scratch, "report.json");
    mkdirSync(dirname(reportFile), { recursive: true });
    writeFileSync(reportFile, `${JSON.stringify({ target: target.label, at: new Date().toISOString(), concurrency, repeat, runs, ratios: ratios(runs) }, null, 2)}\n`);
    log.info(`report: ${displayPath(reportFile)}`);
    const failed = runs.filter((run) => run.failures > 0);
    if (failed.length) throw new TaskError(`stores failed in ${failed.length} run(s): ${failed.map((r) => `${r.client} ${r.path} ${r.size}`).join(", ")}`, { hint: "see the notes in the table and Orthanc's log" });
  },
};

if (import.meta.main) await main("bench", [benchTask]);
