// The ingest's bookkeeping — what the sender was told about each instance —
// against a real DICOM listener (dcmjs-dimse's SCP on 127.0.0.1) that
// misbehaves on purpose: acknowledges some stores, refuses one, then drops the
// connection; rejects the association; or is not there at all. Every instance
// must end with a fate, and only an orderly release may leave none ("silent").
import { createServer } from "node:net";
import dimse from "dcmjs-dimse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssociationOutcome, DicomEndpoint } from "../../smoke/dicom-client.ts";
import { brokenCause, Ingest, tally } from "../../smoke/ingest.ts";

const { Server, Scp, responses, constants } = dimse;

/** What the listener does on each association: acknowledge `ack` stores, refuse `refuse` (0xA700), then drop; or reject it. */
const behaviour = { ack: Number.POSITIVE_INFINITY, refuse: 0, reject: false };

class MisbehavingScp extends Scp {
  private stores = 0;

  override associationRequested(association: InstanceType<typeof dimse.association.Association>): void {
    if (behaviour.reject) {
      this.sendAssociationReject(constants.RejectResult.Permanent, constants.RejectSource.ServiceUser, constants.RejectReason.CalledAeNotRecognized);
      return;
    }
    for (const context of association.getPresentationContexts()) {
      association.getPresentationContext(context.id).setResult(constants.PresentationContextResult.Accept, constants.TransferSyntax.ExplicitVRLittleEndian);
    }
    this.sendAssociationAccept();
  }

  override cStoreRequest(request: InstanceType<typeof dimse.requests.CStoreRequest>, callback: (response: InstanceType<typeof responses.CStoreResponse>) => void): void {
    const index = this.stores++;
    if (index < behaviour.ack + behaviour.refuse) {
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(index < behaviour.ack ? constants.Status.Success : 0xa700);
      callback(response);
      return;
    }
    // Crash: the connection goes without an answer.
    (this as unknown as { socket: { destroy(): void } }).socket.destroy();
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe("ingest bookkeeping", () => {
  let port = 0;
  let server: InstanceType<typeof Server>;
  const plan = (endpointPort: number, runId: string) => ({
    endpoint: { host: "127.0.0.1", port: endpointPort, callingAet: "KORTHWEB-TEST" } satisfies DicomEndpoint,
    calledAet: "ANY",
    senders: 2,
    batch: 5,
    pixelBytes: 256,
    runId,
  });

  beforeAll(async () => {
    port = await freePort();
    server = new Server(MisbehavingScp);
    server.listen(port);
  });
  afterAll(() => server.close());

  it("all acknowledged when the listener answers every store and releases", async () => {
    Object.assign(behaviour, { ack: Number.POSITIVE_INFINITY, refuse: 0, reject: false });
    const ingest = new Ingest(plan(port, "ok"));
    await ingest.run(2);
    expect(tally(ingest.records)).toEqual({ sent: 20, acknowledged: 20, refused: 0, broken: 0, silent: 0 });
    expect(new Set(ingest.records.map((record) => record.instance.sopInstanceUid)).size).toBe(20);
  });

  it("acknowledged, refused with the status, then broken with the reason when the connection drops", async () => {
    Object.assign(behaviour, { ack: 2, refuse: 1, reject: false });
    const ingest = new Ingest(plan(port, "crash"));
    await ingest.run(1);
    expect(tally(ingest.records)).toEqual({ sent: 10, acknowledged: 4, refused: 2, broken: 4, silent: 0 });
    expect(ingest.records.filter((record) => record.fate === "refused").map((record) => record.cause)).toEqual([
      expect.stringMatching(/^0xA700 out of resources/),
      expect.stringMatching(/^0xA700 out of resources/),
    ]);
    for (const record of ingest.records.filter((record) => record.fate === "broken")) expect(record.cause).toMatch(/^the association broke before the answer/);
    // Resending what failed settles it once the listener behaves.
    Object.assign(behaviour, { ack: Number.POSITIVE_INFINITY, refuse: 0 });
    const failed = ingest.records.filter((record) => record.fate !== "acknowledged");
    expect(tally(await ingest.resend(failed))).toMatchObject({ sent: 6, acknowledged: 6 });
  });

  it("broken with the rejection, or with 'cannot connect' when nothing listens", async () => {
    Object.assign(behaviour, { ack: Number.POSITIVE_INFINITY, refuse: 0, reject: true });
    const rejected = new Ingest(plan(port, "rejected"));
    await rejected.run(1);
    expect(tally(rejected.records)).toMatchObject({ sent: 10, broken: 10, silent: 0 });
    expect(rejected.records[0]!.cause).toBe('association rejected: called AE title "ANY" not recognized (the target checks the called AE title)');

    const nowhere = new Ingest(plan(await freePort(), "nowhere"));
    await nowhere.run(1);
    expect(tally(nowhere.records)).toMatchObject({ sent: 10, broken: 10 });
    expect(nowhere.records[0]!.cause).toMatch(/^cannot connect to 127\.0\.0\.1:\d+: connection refused/);
  });

  it("waits on a condition over the fates, and says what was not reached", async () => {
    Object.assign(behaviour, { ack: Number.POSITIVE_INFINITY, refuse: 0, reject: false });
    const ingest = new Ingest(plan(port, "wait"));
    let stop = false;
    const sending = ingest.runUntil(() => stop);
    await ingest.waitFor((records) => tally(records).acknowledged >= 15, 30_000, "15 acknowledged");
    stop = true;
    await sending;
    expect(tally(ingest.records).acknowledged).toBeGreaterThanOrEqual(15);
    await expect(ingest.waitFor(() => false, 50, "never")).rejects.toThrow(/^never: not reached within 0.05 s/);
  });

  it("names why an association left instances unanswered; an orderly release without answers is silent", () => {
    const endpoint: DicomEndpoint = { host: "127.0.0.1", port: 11112, callingAet: "US" };
    const base: AssociationOutcome = { accepted: true, responses: [], timedOut: false, ms: 1, released: false };
    expect(brokenCause({ ...base, released: true }, endpoint, "ORTHANC")).toBeUndefined();
    expect(brokenCause(base, endpoint, "ORTHANC")).toMatch(/^the association broke before the answer/);
    expect(brokenCause({ ...base, timedOut: true }, endpoint, "ORTHANC")).toMatch(/no answer in time/);
    expect(brokenCause({ ...base, accepted: false }, endpoint, "ORTHANC")).toMatch(/^connection on 11112 closed before any DICOM answer/);
    expect(brokenCause({ ...base, accepted: false, rejection: { result: 1, source: 1, reason: 7 } }, endpoint, "ORTHANC")).toMatch(/called AE title "ORTHANC"/);
  });
});
