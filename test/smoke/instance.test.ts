// Generated instances and the byte comparison of the round trip: a Part 10
// file written by dcmjs splits into the transfer syntax and exactly the data
// set bytes a sender puts on the wire; pre-encoding changes nothing on the wire.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { encodeDataset, explicitVrLittleEndian, firstDifference, generateInstance, preEncoded, sideFor, splitPart10 } from "../../smoke/instance.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-instance-"));

describe("smoke instances", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("makes a new instance with unique UIDs and about the asked pixel size", () => {
    const a = generateInstance({ pixelBytes: 512 * 1024, patientId: "P", studyDescription: "d" });
    const b = generateInstance({ pixelBytes: 512 * 1024, patientId: "P", studyDescription: "d" });
    expect(a.pixelBytes).toBe(512 * 1024);
    expect(sideFor(1024)).toBe(22);
    expect(new Set([a.sopInstanceUid, b.sopInstanceUid, a.tags.StudyInstanceUID, b.tags.StudyInstanceUID]).size).toBe(4);
    expect(a.sopInstanceUid).toMatch(/^2\.25\.\d+$/);
  });

  it("splits a Part 10 file into its transfer syntax and the data set bytes that were encoded", async () => {
    const instance = generateInstance({ pixelBytes: 4096, patientId: "P", studyDescription: "split" });
    const file = join(dir, "one.dcm");
    await promisify((path: string, done: (error?: Error) => void) => instance.dataset.toFile(path, done))(file);
    const part10 = splitPart10(readFileSync(file));
    expect(part10.transferSyntaxUid).toBe(explicitVrLittleEndian);
    const sent = encodeDataset(instance.dataset, part10.transferSyntaxUid);
    expect(firstDifference(part10.dataset, sent)).toBe(-1);
    const changed = Buffer.from(sent);
    changed[100] = changed[100]! ^ 0xff;
    expect(firstDifference(part10.dataset, changed)).toBe(100);
    expect(() => splitPart10(Buffer.alloc(200))).toThrow("not a DICOM Part 10 file");
  });

  it("pre-encoding sends the same bytes", () => {
    const instance = generateInstance({ pixelBytes: 2048, patientId: "P", studyDescription: "pre" });
    const encoded = preEncoded(instance.dataset);
    expect(Buffer.from(encoded.getDenaturalizedDataset({})).equals(Buffer.from(instance.dataset.getDenaturalizedDataset()))).toBe(true);
    expect(encoded.getElements().SOPInstanceUID).toBe(instance.sopInstanceUid);
  });
});
