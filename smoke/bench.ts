// C-STORE throughput: N generated instances over C concurrent associations,
// through the TLS terminator ("ingress") and, on the local stack, straight to
// Orthanc ("direct"); with our client (dcmjs-dimse, no-delay sockets) and with
// dcmtk's storescu as the reference on the same path. Figures are measured and
// printed, never asserted.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import dimse from "dcmjs-dimse";
import { associate, statusOf, type DicomEndpoint } from "./dicom-client.ts";
import { generateInstance, preEncoded, sideFor, type GeneratedInstance } from "./instance.ts";
import { RestClient } from "./rest.ts";
import type { SmokeTarget } from "./target.ts";

const { requests } = dimse;

/** ingress: the TLS terminator as deployed (mutual TLS when it requires client certificates); tls-only: the same terminator with server-only TLS (local stack, for the cost of mutual TLS); direct: Orthanc itself. */
export type PathName = "ingress" | "tls-only" | "direct";
export type ClientName = "dcmjs-dimse" | "storescu";

export interface BenchSize {
  name: string;
  pixelBytes: number;
  count: number;
}

export interface BenchPath {
  name: PathName;
  endpoint: DicomEndpoint;
  /** The CA file storescu trusts (TLS paths only). */
  caFile?: string;
  /** The client certificate and key files storescu presents (mutual TLS paths only). */
  clientFiles?: { cert: string; key: string };
}

export interface BenchRun {
  client: ClientName;
  path: PathName;
  size: string;
  count: number;
  concurrency: number;
  /** Bytes of one encoded data set. */
  instanceBytes: number;
  seconds: number;
  instancesPerSecond: number;
  megabytesPerSecond: number;
  /** Per-instance latency (time between consecutive responses on an association); ours only. */
  p50Ms?: number;
  p95Ms?: number;
  failures: number;
  note?: string;
  /** How many runs the figures are the median of, and the lowest and highest instances/s among them. */
  repeats?: number;
  range?: [number, number];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** How many of `count` items each of `groups` groups gets (the first ones take the remainder). */
export function groupSizes(count: number, groups: number): number[] {
  const n = Math.max(1, Math.min(groups, count));
  return Array.from({ length: n }, (_, i) => Math.floor(count / n) + (i < count % n ? 1 : 0));
}

/** Patient ID of one association of a run: each association sends its own patient and study, as a modality does. */
export const patientOf = (runId: string, group: number) => `${runId}-${group}`;

/**
 * The instances of one run, one list per association. Separate patients and
 * studies per association also keep Orthanc 1.10's PostgreSQL plugin (serializable
 * transactions) from retrying conflicting inserts into shared parents, which
 * would measure its back-off rather than the path.
 */
function generateGroups(size: BenchSize, concurrency: number, runId: string): GeneratedInstance[][] {
  const side = sideFor(size.pixelBytes);
  const pixels = randomBytes(side * side * 2);
  return groupSizes(size.count, concurrency).map((count, group) => {
    const common = { pixelBytes: size.pixelBytes, patientId: patientOf(runId, group), studyDescription: `korthweb bench ${size.name}`, pixels };
    const first = generateInstance(common);
    const set = [first];
    for (let i = 1; i < count; i++) {
      set.push(generateInstance({ ...common, studyUid: first.tags.StudyInstanceUID, seriesUid: first.tags.SeriesInstanceUID, instanceNumber: i + 1 }));
    }
    return set.map((instance) => ({ ...instance, dataset: preEncoded(instance.dataset) }));
  });
}

const encodedBytes = (instance: GeneratedInstance) => instance.dataset.getDenaturalizedDataset().length;

export async function runOurs(path: BenchPath, size: BenchSize, concurrency: number, calledAet: string, runId: string): Promise<BenchRun> {
  const groups = generateGroups(size, concurrency, runId);
  const instanceBytes = encodedBytes(groups[0]![0]!);
  const started = performance.now();
  const outcomes = await Promise.all(
    groups.map((group) =>
      associate(path.endpoint, calledAet, group.map((instance) => new requests.CStoreRequest(instance.dataset)), { timeoutMs: 60_000 + group.length * 5_000 }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const latencies: number[] = [];
  let failures = 0;
  let note: string | undefined;
  outcomes.forEach((outcome, i) => {
    let previous = outcome.acceptedAt ?? 0;
    for (const { response, at } of outcome.responses) {
      latencies.push(at - previous);
      previous = at;
      if (statusOf(response) !== 0) failures++;
    }
    failures += groups[i]!.length - outcome.responses.length;
    if (!outcome.accepted) note ??= outcome.rejection ? `association rejected (${JSON.stringify(outcome.rejection)})` : (outcome.socketError?.message ?? outcome.networkError ?? "association failed");
  });
  latencies.sort((a, b) => a - b);
  return {
    ...figures("dcmjs-dimse", path, size, groups.length, instanceBytes, seconds),
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    failures,
    ...(note ? { note } : {}),
  };
}

function figures(client: ClientName, path: BenchPath, size: BenchSize, associations: number, instanceBytes: number, seconds: number) {
  return {
    client,
    path: path.name,
    size: size.name,
    count: size.count,
    concurrency: associations,
    instanceBytes,
    seconds,
    instancesPerSecond: size.count / seconds,
    megabytesPerSecond: (size.count * instanceBytes) / seconds / 1e6,
  };
}

function runProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => resolve({ code: 127, output: error.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Writes the set as Part 10 files for storescu. */
async function writeFiles(instances: readonly GeneratedInstance[], dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  return Promise.all(
    instances.map(async (instance, i) => {
      const file = join(dir, `${String(i).padStart(5, "0")}.dcm`);
      await promisify((path: string, callback: (error?: Error) => void) => instance.dataset.toFile(path, callback))(file);
      return file;
    }),
  );
}

export async function runStorescu(path: BenchPath, size: BenchSize, concurrency: number, calledAet: string, runId: string, workDir: string): Promise<BenchRun> {
  const sets = generateGroups(size, concurrency, runId);
  const instanceBytes = encodedBytes(sets[0]![0]!);
  const dir = join(workDir, `storescu-${size.name}`);
  rmSync(dir, { recursive: true, force: true });
  const groups = await Promise.all(sets.map((set, group) => writeFiles(set, join(dir, String(group)))));
  // +tls KEY CERT: dcmtk presents a client certificate (read from files; it has no other way), +tla: anonymous TLS client.
  const identity = path.clientFiles ? ["+tls", path.clientFiles.key, path.clientFiles.cert] : ["+tla"];
  const tls = path.endpoint.tls ? [...identity, ...(path.caFile ? ["+cf", path.caFile] : [])] : [];
  // Debian's dcmtk keeps Nagle's algorithm on unless told.
  const env = { ...process.env, TCP_NODELAY: "1" };
  const started = performance.now();
  const results = await Promise.all(
    groups.map((group) =>
      runProcess("storescu", ["-aet", path.endpoint.callingAet, "-aec", calledAet, ...tls, path.endpoint.host, String(path.endpoint.port), ...group], env),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  // storescu exits non-zero when any of its stores failed; count all of that process's instances as failed.
  const failures = results.reduce((sum, result, i) => sum + (result.code === 0 ? 0 : groups[i]!.length), 0);
  const failed = results.find((result) => result.code !== 0);
  return {
    ...figures("storescu", path, size, groups.length, instanceBytes, seconds),
    failures,
    ...(failed ? { note: failed.output.trim().split("\n").slice(-2).join(" ") } : {}),
  };
}

/** Deletes what a run stored (one patient per association). */
export async function deleteRun(target: SmokeTarget, runId: string, associations: number): Promise<void> {
  const rest = new RestClient(target);
  try {
    for (let group = 0; group < associations; group++) {
      const { value } = await rest.json<{ ID: string; Type: string }[]>({ method: "POST", path: "/tools/lookup", body: patientOf(runId, group) });
      for (const item of value ?? []) if (item.Type === "Patient") await rest.send({ method: "DELETE", path: `/patients/${item.ID}`, timeoutMs: 120_000 });
    }
  } finally {
    rest.close();
  }
}

export interface BenchPathsInput {
  target: SmokeTarget;
  caFile: string | undefined;
  callingAet: string;
  /** Files of target.client, for storescu. */
  clientFiles?: { cert: string; key: string };
  /** Port of a server-only TLS terminator in front of the same Orthanc, when there is one. */
  tlsOnlyPort?: number;
}

export function benchPaths({ target, caFile, callingAet, clientFiles, tlsOnlyPort }: BenchPathsInput): BenchPath[] {
  const tls = { ca: target.ca, expectName: target.dicomName };
  const paths: BenchPath[] = [
    {
      name: "ingress",
      endpoint: { host: target.host, port: target.dicomPort, callingAet, tls: { ...tls, ...(target.client ? { clientCert: target.client } : {}) } },
      ...(caFile ? { caFile } : {}),
      ...(target.client && clientFiles ? { clientFiles } : {}),
    },
  ];
  if (tlsOnlyPort !== undefined) paths.push({ name: "tls-only", endpoint: { host: target.host, port: tlsOnlyPort, callingAet, tls }, ...(caFile ? { caFile } : {}) });
  if (target.direct) paths.push({ name: "direct", endpoint: { host: target.direct.host, port: target.direct.dicomPort, callingAet } });
  return paths;
}

export interface SetupFigures {
  path: PathName;
  count: number;
  /** One association each: TCP, TLS handshake (with the client certificate on mutual TLS paths), A-ASSOCIATE, C-ECHO, A-RELEASE. */
  p50Ms: number;
  p95Ms: number;
  failures: number;
}

/** Association setup cost: `count` C-ECHO associations one after the other, each timed from connect to release. */
export async function associationSetup(path: BenchPath, calledAet: string, count: number): Promise<SetupFigures> {
  const times: number[] = [];
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const outcome = await associate(path.endpoint, calledAet, [new requests.CEchoRequest()], { timeoutMs: 15_000 });
    if (outcome.accepted && outcome.responses.length === 1 && statusOf(outcome.responses[0]!.response) === 0) times.push(outcome.ms);
    else failures++;
  }
  times.sort((a, b) => a - b);
  return { path: path.name, count, p50Ms: percentile(times, 50), p95Ms: percentile(times, 95), failures };
}

export async function warmUp(path: BenchPath, calledAet: string): Promise<void> {
  await associate(path.endpoint, calledAet, [new requests.CEchoRequest()]);
}
