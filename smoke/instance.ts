// A freshly generated DICOM instance (Secondary Capture, 16-bit monochrome,
// new UIDs every time) and the tools to compare it with what the server
// returns: its main tags, and the data set bytes of the stored file (the file
// meta header is the receiver's own, so it is compared apart).
import { randomBytes } from "node:crypto";
import dimse from "dcmjs-dimse";

const { Dataset } = dimse;
export type DicomDataset = InstanceType<typeof Dataset>;

export const explicitVrLittleEndian = "1.2.840.10008.1.2.1";
export const secondaryCaptureStorage = "1.2.840.10008.5.1.4.1.1.7";

/** Tags compared after the round trip (the pixel data is compared as bytes). */
export const mainTags = [
  "PatientID",
  "PatientName",
  "StudyInstanceUID",
  "SeriesInstanceUID",
  "SOPInstanceUID",
  "SOPClassUID",
  "Modality",
  "StudyDescription",
  "Rows",
  "Columns",
] as const;

export interface InstanceOptions {
  /** Approximate pixel data size in bytes (a square 16-bit image). */
  pixelBytes: number;
  patientId: string;
  studyDescription: string;
  /** Shared pixel buffer (benchmarks); otherwise random bytes. */
  pixels?: Buffer;
  /** Reuse these study/series UIDs (benchmarks group instances). */
  studyUid?: string;
  seriesUid?: string;
  instanceNumber?: number;
}

export interface GeneratedInstance {
  dataset: DicomDataset;
  sopInstanceUid: string;
  tags: Record<(typeof mainTags)[number], string>;
  pixelBytes: number;
}

/** Side of a square 16-bit image with about this many bytes of pixel data (even, at least 2). */
export function sideFor(pixelBytes: number): number {
  return Math.max(2, Math.round(Math.sqrt(pixelBytes / 2) / 2) * 2);
}

export function generateInstance(options: InstanceOptions): GeneratedInstance {
  const side = sideFor(options.pixelBytes);
  const size = side * side * 2;
  const pixels = options.pixels && options.pixels.length >= size ? options.pixels.subarray(0, size) : randomBytes(size);
  const now = new Date();
  const date = now.toISOString().slice(0, 10).replaceAll("-", "");
  const time = now.toISOString().slice(11, 19).replaceAll(":", "");
  const tags = {
    PatientID: options.patientId,
    PatientName: "Korthweb^Smoke",
    StudyInstanceUID: options.studyUid ?? Dataset.generateDerivedUid(),
    SeriesInstanceUID: options.seriesUid ?? Dataset.generateDerivedUid(),
    SOPInstanceUID: Dataset.generateDerivedUid(),
    SOPClassUID: secondaryCaptureStorage,
    Modality: "OT",
    StudyDescription: options.studyDescription,
    Rows: String(side),
    Columns: String(side),
  };
  const dataset = new Dataset(
    {
      ...tags,
      Rows: side,
      Columns: side,
      StudyDate: date,
      StudyTime: time,
      SeriesNumber: "1",
      InstanceNumber: String(options.instanceNumber ?? 1),
      ConversionType: "WSD",
      SamplesPerPixel: 1,
      PhotometricInterpretation: "MONOCHROME2",
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 0,
      // A copy as its own ArrayBuffer: dcmjs writes the whole buffer it is given.
      PixelData: [pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength)],
      _vrMap: { PixelData: "OW" },
    },
    explicitVrLittleEndian,
  );
  return { dataset, sopInstanceUid: tags.SOPInstanceUID, tags, pixelBytes: size };
}

export interface Part10 {
  transferSyntaxUid: string;
  /** The bytes after the file meta information: the data set as stored. */
  dataset: Buffer;
}

/** Splits a DICOM Part 10 file into its transfer syntax and data set bytes. */
export function splitPart10(file: Buffer): Part10 {
  if (file.length < 144 || file.toString("latin1", 128, 132) !== "DICM") throw new Error("not a DICOM Part 10 file (no DICM prefix)");
  // File meta elements are explicit VR little endian; (0002,0000) gives the group's length.
  let offset = 132;
  let end = file.length;
  let transferSyntaxUid = "";
  while (offset < end) {
    const group = file.readUInt16LE(offset);
    if (group !== 0x0002) break;
    const element = file.readUInt16LE(offset + 2);
    const vr = file.toString("latin1", offset + 4, offset + 6);
    const longForm = ["OB", "OW", "OF", "SQ", "UT", "UN"].includes(vr);
    const length = longForm ? file.readUInt32LE(offset + 8) : file.readUInt16LE(offset + 6);
    const valueStart = offset + (longForm ? 12 : 8);
    if (element === 0x0000) end = valueStart + 4 + file.readUInt32LE(valueStart);
    if (element === 0x0010) transferSyntaxUid = file.toString("latin1", valueStart, valueStart + length).replace(/[\0 ]+$/, "");
    offset = valueStart + length;
  }
  if (!transferSyntaxUid) throw new Error("the file meta information has no transfer syntax (0002,0010)");
  return { transferSyntaxUid, dataset: file.subarray(offset) };
}

/** The data set encoded in a transfer syntax, as a sender puts it on the wire. */
export function encodeDataset(dataset: DicomDataset, transferSyntaxUid: string): Buffer {
  return Buffer.from(new Dataset(dataset.getElements(), transferSyntaxUid).getDenaturalizedDataset());
}

/** Where two buffers first differ, or -1 when equal. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

/**
 * The same data set, with its encoding done now: dcmjs-dimse encodes a data
 * set when it sends it (a few ms of JavaScript per instance, between the
 * command and the data on the wire). A benchmark that prepares its instances
 * beforehand — as storescu reads prepared files — sends these.
 */
export function preEncoded(dataset: DicomDataset): DicomDataset {
  const transferSyntaxUid = dataset.getTransferSyntaxUid();
  const bytes = Buffer.from(dataset.getDenaturalizedDataset());
  class PreEncodedDataset extends Dataset {
    override getDenaturalizedDataset(writeOptions?: Record<string, unknown>, nameMap?: Record<string, unknown>): Buffer {
      const isDefault = (options?: Record<string, unknown>) => options === undefined || Object.keys(options).length === 0;
      const plain = isDefault(writeOptions) && isDefault(nameMap);
      return plain && this.getTransferSyntaxUid() === transferSyntaxUid ? bytes : super.getDenaturalizedDataset(writeOptions, nameMap);
    }
  }
  return new PreEncodedDataset(dataset.getElements(), transferSyntaxUid);
}
