// `make bench`: runs the C-STORE benchmark against the target (the local stack
// by default), prints a table and the ratios the project aims for, writes a
// JSON report. Exits non-zero only when stores fail; figures are not asserted.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TaskError } from "../tasks/lib/errors.ts";
import { log, progress, style } from "../tasks/lib/log.ts";
import { displayPath, workDir } from "../tasks/lib/paths.ts";
import { withPrivateDir, writeSecretFile } from "../tasks/lib/pki.ts";
import { main, type Task, type TaskContext } from "../tasks/lib/task.ts";
import { startTlsOnlyComparison } from "../proving-ground/local/comparison.ts";
import { associationSetup, benchPaths, deleteRun, runOurs, runStorescu, warmUp, type BenchPath, type BenchRun, type BenchSize, type ClientName, type PathName, type SetupFigures } from "./bench.ts";
import type { SmokeTarget } from "./target.ts";
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
    associations: { type: "string", description: "associations timed one after the other per path, for the setup cost (default 30)" },
    report: { type: "string", description: "JSON report file (default .work/bench/report.json)" },
    "direct-host": { type: "string", description: "kube/explicit targets: an Orthanc pod's address (or a port-forward's), for the direct path beside the ingress" },
    "direct-dicom-port": { type: "string", description: "the direct path's plain DICOM port (default 4242, Orthanc's in the chart)" },
  },
  run: async (ctx) => {
    const options = new TargetOptions(ctx.flags);
    const discovered = await discoverTarget(options, ctx.settings, ctx.kube, localTargetFile());
    const kind = discovered.kind;
    const target = withDirectPath(discovered.target, ctx.flags);
    const sizes: BenchSize[] = [
      { name: "small", pixelBytes: 1024, count: positive(ctx.flags.small, "small", 200) },
      { name: "large", pixelBytes: 512 * 1024, count: positive(ctx.flags.large, "large", 40) },
    ];
    const concurrency = positive(ctx.flags.concurrency, "concurrency", 4);
    const repeat = positive(ctx.flags.repeat, "repeat", 5);
    const storescu = ctx.flags["no-storescu"] !== true && hasStorescu();
    const setupCount = positive(ctx.flags.associations, "associations", 30);
    log.info(`target: ${target.label}`);
    if (!storescu) log.warn("storescu runs skipped (dcmtk not installed, or --no-storescu)");
    // The calling AE title of the smoke client: registered, so Orthanc accepts it (also on the direct path).
    const callingAet = target.callingAet;
    if (ctx.dryRun) {
      log.info(`paths: ingress${target.client ? " (mutual TLS)" : ""}${kind === "local" && target.clientAuth === "required" ? ", tls-only (a temporary server-only TLS terminator)" : ""}${target.direct ? ", direct" : ""}; concurrency ${concurrency}`);
      return;
    }
    // On the local stack with mutual TLS: the same terminator without client certificates, to measure what they cost.
    const tlsOnly = kind === "local" && target.clientAuth === "required" ? await startTlsOnlyComparison(ctx.settings) : undefined;
    try {
      await withTlsFiles(target, async (clientFiles, caFile) => {
        const paths = benchPaths({ target, caFile, callingAet, ...(clientFiles ? { clientFiles } : {}), ...(tlsOnly ? { tlsOnlyPort: tlsOnly.port } : {}) });
        log.info(`paths: ${paths.map((p) => `${p.name} ${p.endpoint.host}:${p.endpoint.port}${p.endpoint.tls ? (p.endpoint.tls.clientCert ? " (mutual TLS)" : " (TLS)") : ""}`).join(", ")}; concurrency ${concurrency}`);
        await measure({ ctx, target, paths, sizes, concurrency, repeat, storescu, setupCount });
      });
    } finally {
      await tlsOnly?.stop();
    }
  },
};

/** The direct path named by --direct-host (a pod, a port-forward), replacing any the target has. */
export function withDirectPath(target: SmokeTarget, flags: Record<string, unknown>): SmokeTarget {
  const host = flags["direct-host"];
  if (host === undefined) {
    if (flags["direct-dicom-port"] !== undefined) throw new TaskError("--direct-dicom-port needs --direct-host (the address of an Orthanc pod or a port-forward)", { code: "usage" });
    return target;
  }
  if (typeof host !== "string" || !/^[A-Za-z0-9.:-]+$/.test(host)) throw new TaskError(`invalid --direct-host "${String(host)}": expected an IP address or host name`, { code: "usage" });
  const dicomPort = flags["direct-dicom-port"] === undefined ? 4242 : Number(flags["direct-dicom-port"]);
  if (!Number.isInteger(dicomPort) || dicomPort < 1 || dicomPort > 65535) throw new TaskError(`invalid --direct-dicom-port "${String(flags["direct-dicom-port"])}": expected a port from 1 to 65535`, { code: "usage" });
  return { ...target, direct: { host, dicomPort, httpPort: target.direct?.httpPort ?? 8042 } };
}

/**
 * storescu reads the client certificate and the CA from files: the key goes to a 0600 file in a 0700 folder,
 * removed after; a CA discovered in the cluster (held in memory) is written beside it.
 */
async function withTlsFiles(target: SmokeTarget, use: (files: { cert: string; key: string } | undefined, caFile: string | undefined) => Promise<void>): Promise<void> {
  if (!target.client && (target.caFile || !target.ca)) return use(undefined, target.caFile);
  const { client, ca } = target;
  await withPrivateDir(async (dir) => {
    let caFile = target.caFile;
    if (!caFile && ca) {
      caFile = join(dir, "ca.crt");
      writeFileSync(caFile, ca);
    }
    if (!client) return use(undefined, caFile);
    const files = { cert: join(dir, "client.crt"), key: join(dir, "client.key") };
    writeFileSync(files.cert, client.cert);
    writeSecretFile(files.key, client.key);
    await use(files, caFile);
  });
}

interface MeasureInput {
  ctx: TaskContext;
  target: SmokeTarget;
  paths: BenchPath[];
  sizes: BenchSize[];
  concurrency: number;
  repeat: number;
  storescu: boolean;
  setupCount: number;
}

async function measure({ ctx, target, paths, sizes, concurrency, repeat, storescu, setupCount }: MeasureInput): Promise<void> {

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
    log.plain(style.bold(`  association setup (connect, TLS, A-ASSOCIATE, C-ECHO, A-RELEASE), ${setupCount} in a row, dcmjs-dimse:`));
    const setups: SetupFigures[] = [];
    for (const path of paths) {
      const setup = await associationSetup(path, target.calledAet, setupCount);
      setups.push(setup);
      log.plain(`  ${path.name.padEnd(8)} p50 ${fixed(setup.p50Ms, 1).padStart(6)} ms  p95 ${fixed(setup.p95Ms, 1).padStart(6)} ms  failed ${setup.failures}`);
    }
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
    for (const line of mutualTlsCost(setups, runs)) log.plain(`  ${line}`);
    for (const ratio of ratios(runs)) {
      const verdict = ratio.value >= ratio.target ? style.green(`meets ≥ ${ratio.target}`) : style.yellow(`below the ${ratio.target} target`);
      log.plain(`  ${ratio.what.padEnd(48)} ${ratio.value.toFixed(2)}  ${verdict}`);
    }
    const reportFile = typeof ctx.flags.report === "string" ? ctx.flags.report : join(scratch, "report.json");
    mkdirSync(dirname(reportFile), { recursive: true });
    writeFileSync(reportFile, `${JSON.stringify({ target: target.label, at: new Date().toISOString(), concurrency, repeat, associationSetup: setups, runs, ratios: ratios(runs) }, null, 2)}\n`);
    log.info(`report: ${displayPath(reportFile)}`);
    const failed = runs.filter((run) => run.failures > 0);
    if (failed.length) throw new TaskError(`stores failed in ${failed.length} run(s): ${failed.map((r) => `${r.client} ${r.path} ${r.size}`).join(", ")}`, { hint: "see the notes in the table and Orthanc's log" });
    const failedSetups = setups.filter((setup) => setup.failures > 0);
    if (failedSetups.length) throw new TaskError(`associations failed on ${failedSetups.map((setup) => setup.path).join(", ")}`, { hint: "see Orthanc's and the terminator's logs" });
}

/** What mutual TLS costs: setup time and throughput of the mutual TLS ingress against the server-only TLS one. */
export function mutualTlsCost(setups: readonly SetupFigures[], runs: readonly BenchRun[]): string[] {
  const mutual = setups.find((setup) => setup.path === "ingress");
  const plain = setups.find((setup) => setup.path === "tls-only");
  if (!mutual || !plain) return [];
  const lines = [`mutual TLS cost: association setup p50 ${fixed(mutual.p50Ms, 1)} ms vs ${fixed(plain.p50Ms, 1)} ms server-only TLS (${fixed(mutual.p50Ms - plain.p50Ms, 1)} ms more)`];
  for (const run of runs.filter((r) => r.path === "ingress")) {
    const other = runs.find((r) => r.path === "tls-only" && r.client === run.client && r.size === run.size);
    if (other) lines.push(`mutual TLS cost: ${run.size} ${run.client} ${fixed(run.instancesPerSecond, 1)} vs ${fixed(other.instancesPerSecond, 1)} inst/s (ratio ${fixed(run.instancesPerSecond / other.instancesPerSecond, 2)})`);
  }
  return lines;
}

if (import.meta.main) await main("bench", [benchTask]);
