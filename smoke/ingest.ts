// Storing many instances the way modalities do — several associations at
// once, each sender with its own patient (or a few senders sharing one study)
// — while keeping, for every instance, what the sender was told. Fault tests
// rely on it: after a crash, every instance the sender saw acknowledged must
// be stored, and every other one must have been reported to the sender.
import dimse from "dcmjs-dimse";
import { closedWithoutAnswerCause, connectionCause, dimseStatusCause, rejectionCause } from "./causes.ts";
import { associate, statusOf, type AssociationOutcome, type DicomEndpoint } from "./dicom-client.ts";
import { generateInstance, type GeneratedInstance } from "./instance.ts";

const { requests, Dataset } = dimse;

/**
 * What the sender learnt about one instance:
 * - acknowledged: a C-STORE response with a success or warning status;
 * - refused: a response with a failure status (e.g. 0xA700);
 * - broken: no response, and the sender saw why — association rejected,
 *   aborted, timed out, or its connection dropped;
 * - silent: no response although the association ended in an orderly
 *   release. The sender would believe nothing went wrong: this must never happen.
 */
export type Fate = "acknowledged" | "refused" | "broken" | "silent";

export interface SentInstance {
  instance: GeneratedInstance;
  /** Which sender sent it (0-based). */
  sender: number;
  fate: Fate;
  /** Anything but "acknowledged": the failure in the sender's words. */
  cause?: string;
  /** When the answer (or the failure) came, in ms since the ingest started. */
  at: number;
}

export interface IngestPlan {
  endpoint: DicomEndpoint;
  calledAet: string;
  senders: number;
  /** Instances per association. */
  batch: number;
  pixelBytes: number;
  /** Patient IDs are `<runId>-<study>`, so what a run stored can be found again. */
  runId: string;
  /** Senders that share one patient, study and series (default 1: each its own), e.g. 2 to make two Orthancs race on the same study. */
  sendersPerStudy?: number;
  /** Per association (default 60 s). */
  timeoutMs?: number;
}

export interface Tally {
  sent: number;
  acknowledged: number;
  refused: number;
  broken: number;
  silent: number;
}

export function tally(records: readonly SentInstance[]): Tally {
  const count = (fate: Fate) => records.filter((record) => record.fate === fate).length;
  return { sent: records.length, acknowledged: count("acknowledged"), refused: count("refused"), broken: count("broken"), silent: count("silent") };
}

/** Why an association left instances without an answer, as its sender saw it (undefined: it did not see anything wrong). */
export function brokenCause(outcome: AssociationOutcome, endpoint: DicomEndpoint, calledAet: string): string | undefined {
  if (outcome.rejection) return rejectionCause(outcome.rejection, calledAet, endpoint.callingAet);
  if (outcome.timedOut) return "no answer in time: the association was given up";
  if (!outcome.accepted) {
    if (outcome.socketError) return connectionCause(outcome.socketError, endpoint.host, endpoint.port);
    return outcome.networkError ?? closedWithoutAnswerCause(endpoint.port);
  }
  // Accepted, then cut: what the socket said is a detail (e.g. our next write after the server closed it).
  if (!outcome.released) {
    const detail = outcome.socketError?.code ?? outcome.networkError;
    return `the association broke before the answer: connection closed or aborted by the other side${detail ? ` (${detail})` : ""}`;
  }
  return undefined;
}

const isSuccess = (status: number) => status === 0 || (status & 0xf000) === 0xb000;

interface Waiter {
  predicate: (records: readonly SentInstance[]) => boolean;
  resolve: () => void;
}

export class Ingest {
  readonly plan: IngestPlan;
  /** Every instance handed to a sender, with its fate, in the order fates became known. */
  readonly records: SentInstance[] = [];
  private readonly started = performance.now();
  private readonly studies = new Map<number, { studyUid: string; seriesUid: string }>();
  private readonly sequence: number[];
  private waiters: Waiter[] = [];

  constructor(plan: IngestPlan) {
    this.plan = plan;
    this.sequence = Array.from({ length: plan.senders }, () => 0);
  }

  /** ms since the ingest was created. */
  now(): number {
    return performance.now() - this.started;
  }

  /** The study a sender writes to. */
  studyOf(sender: number): number {
    return Math.floor(sender / (this.plan.sendersPerStudy ?? 1));
  }

  patientOf(sender: number): string {
    return `${this.plan.runId}-${this.studyOf(sender)}`;
  }

  private nextInstance(sender: number): GeneratedInstance {
    const study = this.studyOf(sender);
    let uids = this.studies.get(study);
    if (!uids) {
      uids = { studyUid: Dataset.generateDerivedUid(), seriesUid: Dataset.generateDerivedUid() };
      this.studies.set(study, uids);
    }
    const number = ++this.sequence[sender]!;
    return generateInstance({
      pixelBytes: this.plan.pixelBytes,
      patientId: this.patientOf(sender),
      studyDescription: `korthweb ingest ${this.plan.runId}`,
      ...uids,
      instanceNumber: sender * 100_000 + number,
    });
  }

  private record(entry: SentInstance, into: SentInstance[]): void {
    into.push(entry);
    if (into !== this.records) return;
    const due = this.waiters.filter((waiter) => waiter.predicate(this.records));
    this.waiters = this.waiters.filter((waiter) => !due.includes(waiter));
    for (const waiter of due) waiter.resolve();
  }

  /** One association sending `instances`; every instance gets its fate in `into`. Returns whether all were acknowledged. */
  private async associationOf(sender: number, instances: readonly GeneratedInstance[], into: SentInstance[]): Promise<boolean> {
    const { endpoint, calledAet } = this.plan;
    const begin = this.now();
    const answered = new Set<number>();
    const outcome = await associate(endpoint, calledAet, instances.map((instance) => new requests.CStoreRequest(instance.dataset)), {
      timeoutMs: this.plan.timeoutMs ?? 60_000,
      onResponse: (index, response, at) => {
        answered.add(index);
        const status = statusOf(response);
        const ok = isSuccess(status);
        this.record({ instance: instances[index]!, sender, fate: ok ? "acknowledged" : "refused", ...(ok ? {} : { cause: dimseStatusCause(status) }), at: begin + at }, into);
      },
    });
    const cause = brokenCause(outcome, endpoint, calledAet);
    instances.forEach((instance, index) => {
      if (answered.has(index)) return;
      this.record(
        { instance, sender, fate: cause === undefined ? "silent" : "broken", cause: cause ?? "no answer, yet the association was released normally", at: begin + outcome.ms },
        into,
      );
    });
    return answered.size === instances.length && outcome.responses.every(({ response }) => isSuccess(statusOf(response)));
  }

  /** Each sender opens `associations` associations one after the other, `batch` new instances each. */
  async run(associations = 1): Promise<void> {
    await Promise.all(
      Array.from({ length: this.plan.senders }, async (_, sender) => {
        for (let i = 0; i < associations; i++) {
          await this.associationOf(sender, Array.from({ length: this.plan.batch }, () => this.nextInstance(sender)), this.records);
        }
      }),
    );
  }

  /** Each sender keeps opening associations of new instances until `stop()` is true; after a failed one it pauses `pauseMs`, as a modality retries. */
  async runUntil(stop: () => boolean, pauseMs = 50): Promise<void> {
    await Promise.all(
      Array.from({ length: this.plan.senders }, async (_, sender) => {
        while (!stop()) {
          const ok = await this.associationOf(sender, Array.from({ length: this.plan.batch }, () => this.nextInstance(sender)), this.records);
          if (!ok) await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      }),
    );
  }

  /** Sends these instances again (what a modality does with the ones that failed), spread over the senders. Returns their fates. */
  async resend(instances: readonly SentInstance[]): Promise<SentInstance[]> {
    const out: SentInstance[] = [];
    const bySender = new Map<number, GeneratedInstance[]>();
    for (const { sender, instance } of instances) bySender.set(sender, [...(bySender.get(sender) ?? []), instance]);
    await Promise.all([...bySender].map(([sender, list]) => this.associationOf(sender, list, out)));
    return out;
  }

  /** Resolves as soon as `predicate` holds for the records (checked at each new fate); rejects after `timeoutMs`. */
  waitFor(predicate: (records: readonly SentInstance[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate(this.records)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        reject(new Error(`${what}: not reached within ${timeoutMs / 1000} s (${JSON.stringify(tally(this.records))})`));
      }, timeoutMs);
      const entry: Waiter = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(entry);
    });
  }
}
