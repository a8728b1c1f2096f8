// A C-STORE stream with one fault injected in its middle, and the accounting
// the fault tests print: what was sent, what the senders were told
// (acknowledged, failure reported), what is silently lost (acknowledged yet not
// stored once, byte for byte; or no answer on an orderly release), and how
// long after the fault stores succeed again. The sending and the per-instance
// fates are smoke/ingest.ts, the read-back is smoke/presence.ts; this module
// only times the fault against them and sums up, for the local stack's fault
// tests and the real node's alike.
import { Ingest, tally, type IngestPlan, type SentInstance } from "../../smoke/ingest.ts";
import { checkPresence, storedAmong } from "../../smoke/presence.ts";
import type { RestClient } from "../../smoke/rest.ts";

export const acknowledged = (records: readonly SentInstance[]) => records.filter((record) => record.fate === "acknowledged");
export const notAcknowledged = (records: readonly SentInstance[]) => records.filter((record) => record.fate !== "acknowledged");
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** One machine-readable line per measurement, as every reliability test prints them. */
export function printFigures(name: string, values: Record<string, unknown>): void {
  console.log(`[reliability] ${name} ${JSON.stringify(values)}`);
}

export interface Recovery {
  /** Failures reported to senders at or after the fault. */
  failuresAfterFault: number;
  /** The last of them (ms on the ingest's clock), undefined when none. */
  lastFailureAt: number | undefined;
  /** ms from the fault to the first acknowledgement after the last failure; undefined while none came. */
  recoveryMs: number | undefined;
  /** The longest time without any acknowledgement, from the fault to the last acknowledgement: how long stores stalled. */
  longestStallMs: number | undefined;
}

/** When stores succeeded again after a fault at `faultAt`: the first acknowledgement after the last reported failure, and the longest stall. */
export function recoveryAfter(records: readonly SentInstance[], faultAt: number): Recovery {
  const failures = notAcknowledged(records).filter((record) => record.at >= faultAt);
  const lastFailureAt = failures.length ? Math.max(...failures.map((record) => record.at)) : undefined;
  const since = lastFailureAt ?? faultAt;
  const acks = acknowledged(records).map((record) => record.at).filter((at) => at > faultAt).sort((a, b) => a - b);
  const firstAck = acks.find((at) => at > since);
  const stalls = acks.map((at, index) => at - (index === 0 ? faultAt : acks[index - 1]!));
  return {
    failuresAfterFault: failures.length,
    lastFailureAt,
    recoveryMs: firstAck === undefined ? undefined : firstAck - faultAt,
    longestStallMs: stalls.length ? Math.max(...stalls) : undefined,
  };
}

export interface FaultFigures {
  fault: string;
  sent: number;
  acknowledged: number;
  /** Refused (a failure status) or broken (the association visibly failed): the sender knows. */
  reported: number;
  refused: number;
  broken: number;
  /** Acknowledged but not stored exactly once with the bytes sent, plus answers missing on an orderly release: must be 0. */
  silent: number;
  /** Acknowledged instances found once, byte-identical, over REST. */
  readBackIdentical: number;
  /** Reported as failed, yet stored (committed before the answer was lost): allowed, a resend settles it. */
  failedButStored: number;
  /** Failures reported before the fault (a healthy stream has none). */
  failedBeforeFault: number;
  /** Failures reported at or after the fault. */
  failedAfterFault: number;
  /** From the fault to the first acknowledgement after the last reported failure. */
  recoveryMs: number | undefined;
  /** The longest time without an acknowledgement after the fault. */
  longestStallMs: number | undefined;
  /** The failures in the senders' words. */
  causes: string[];
}

/** A continuous stream of new instances (each sender: one association of `plan.batch`, then the next; after a failed one it pauses, as a modality retries). */
export class FaultStream {
  readonly ingest: Ingest;
  private stopped = false;
  private sending: Promise<void> | undefined;
  private faultAtMs: number | undefined;
  private readonly retryPauseMs: number;

  constructor(plan: IngestPlan, retryPauseMs: number) {
    this.ingest = new Ingest(plan);
    this.retryPauseMs = retryPauseMs;
  }

  /** ms on the stream's clock. */
  now(): number {
    return this.ingest.now();
  }

  get faultAt(): number {
    if (this.faultAtMs === undefined) throw new Error("no fault injected into this stream yet");
    return this.faultAtMs;
  }

  start(): void {
    this.sending = this.ingest.runUntil(() => this.stopped, this.retryPauseMs);
  }

  /** Waits until `count` instances are acknowledged (before the fault: the stream is healthy). */
  acknowledgedFirst(count: number, timeoutMs: number): Promise<void> {
    return this.ingest.waitFor((records) => acknowledged(records).length >= count, timeoutMs, `${count} instances acknowledged before the fault`);
  }

  /** Runs the fault; its start is the fault's time. */
  async inject<T>(fault: () => Promise<T>): Promise<T> {
    this.faultAtMs = this.now();
    return fault();
  }

  /** Waits until `count` instances are acknowledged after both the last reported failure and `notBefore` (e.g. when the cluster settled). */
  recovered(count: number, timeoutMs: number, notBefore = this.faultAt): Promise<void> {
    const after = (records: readonly SentInstance[]) => {
      const since = Math.max(notBefore, recoveryAfter(records, this.faultAt).lastFailureAt ?? 0);
      return acknowledged(records).filter((record) => record.at > since).length;
    };
    return this.ingest.waitFor((records) => after(records) >= count, timeoutMs, `${count} instances acknowledged after the fault and its last reported failure`);
  }

  /** Stops the senders (each finishes its association) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.sending;
  }

  /** Reads every acknowledged instance back over REST and sums up. Call after stop(). */
  async account(fault: string, rest: RestClient): Promise<FaultFigures> {
    const records = this.ingest.records;
    const counts = tally(records);
    const acked = acknowledged(records);
    const presence = await checkPresence(rest, acked.map((record) => record.instance));
    const failed = notAcknowledged(records);
    const storedAnyway = await storedAmong(rest, failed.map((record) => record.instance.sopInstanceUid));
    const faultAt = this.faultAt;
    const recovery = recoveryAfter(records, faultAt);
    return {
      fault,
      sent: counts.sent,
      acknowledged: counts.acknowledged,
      reported: counts.refused + counts.broken,
      refused: counts.refused,
      broken: counts.broken,
      silent: counts.silent + (acked.length - presence.found),
      readBackIdentical: presence.found,
      failedButStored: storedAnyway.size,
      failedBeforeFault: failed.filter((record) => record.at < faultAt).length,
      failedAfterFault: recovery.failuresAfterFault,
      recoveryMs: recovery.recoveryMs,
      longestStallMs: recovery.longestStallMs,
      causes: [...new Set(failed.filter((record) => record.fate !== "silent").map((record) => record.cause ?? ""))],
    };
  }
}

export interface RestAnswer {
  /** When it came (ms on the probe's clock). */
  at: number;
  /** HTTP status; 0 when no answer came (connection refused or reset, timeout). */
  status: number;
}

/**
 * Polls one REST call through the gateway (by default GET /changes?last, which needs the database)
 * and keeps when each answer came and with what status: what a viewer or a script saw during a fault.
 */
export class RestProbe {
  readonly answers: RestAnswer[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(rest: RestClient, clock: () => number, options: { path?: string; intervalMs?: number } = {}) {
    const path = options.path ?? "/changes?last";
    this.loop = (async () => {
      while (!this.stopped) {
        let status = 0;
        try {
          status = (await rest.send({ path, timeoutMs: 20_000 })).status;
        } catch {
          status = 0;
        }
        this.answers.push({ at: clock(), status });
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
      }
    })();
  }

  /** The answers other than 200 since `since`. */
  failedSince(since: number): RestAnswer[] {
    return this.answers.filter((answer) => answer.at >= since && answer.status !== 200);
  }

  /** Waits until the last `count` answers were all 200 (the gateway routes to live pods only again). */
  async healthy(count: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const last = this.answers.slice(-count);
      if (last.length === count && last.every((answer) => answer.status === 200)) return;
      if (performance.now() > deadline) throw new Error(`REST did not answer 200 ${count} times in a row within ${timeoutMs / 1000} s; last: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** The header of the figures table, for docs. */
export const figuresTableHeader = [
  "| fault | sent | acknowledged | failures reported | silent | read back byte-identical | failed but stored | longest without an acknowledgement | stores succeed again |",
  "|---|---|---|---|---|---|---|---|---|",
].join("\n");

/** One fault as a row of that table (paste into docs). */
export function figuresTableRow(figures: FaultFigures): string {
  const stall = figures.longestStallMs === undefined ? "-" : seconds(figures.longestStallMs);
  const recovery =
    figures.recoveryMs === undefined ? "not recovered" : figures.failedAfterFault === 0 ? "no store failed" : `${seconds(figures.recoveryMs)} after the fault`;
  return `| ${figures.fault} | ${figures.sent} | ${figures.acknowledged} | ${figures.reported} | ${figures.silent} | ${figures.readBackIdentical} of ${figures.acknowledged} | ${figures.failedButStored} | ${stall} | ${recovery} |`;
}
