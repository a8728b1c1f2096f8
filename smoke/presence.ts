// Is what was sent really stored, once, and unchanged? Over REST, as a user
// would check: each SOP Instance UID looked up (/tools/lookup), the stored
// file's data set compared byte for byte with what was sent, and a run's
// instances counted by SOP Instance UID (/tools/find), so a duplicate shows.
import { encodeDataset, firstDifference, splitPart10, type GeneratedInstance } from "./instance.ts";
import type { RestClient } from "./rest.ts";

export interface PresenceReport {
  checked: number;
  /** SOP Instance UIDs found exactly once with identical data set bytes. */
  found: number;
  missing: string[];
  /** Found more than once by /tools/lookup. */
  duplicated: string[];
  /** Found, but the stored data set differs from what was sent (with where). */
  differing: string[];
}

export type Level = "Patient" | "Study" | "Series" | "Instance";

/** Orthanc IDs of the resources of a level that carry this identifier (/tools/lookup): one normally, two if created twice. */
export async function lookupIds(rest: RestClient, identifier: string, level: Level = "Instance"): Promise<string[]> {
  const { status, value } = await rest.json<{ ID: string; Type: string }[]>({ method: "POST", path: "/tools/lookup", body: identifier });
  if (status !== 200) throw new Error(`POST /tools/lookup answered ${status}`);
  return (value ?? []).filter((item) => item.Type === level).map((item) => item.ID);
}

/** Where the stored data set differs from what was sent, or undefined when identical. */
async function storedDifference(rest: RestClient, id: string, instance: GeneratedInstance): Promise<string | undefined> {
  const response = await rest.send({ path: `/instances/${id}/file`, timeoutMs: 30_000 });
  if (response.status !== 200) return `GET /instances/${id}/file answered ${response.status}`;
  const stored = splitPart10(response.body);
  const sent = encodeDataset(instance.dataset, stored.transferSyntaxUid);
  const at = firstDifference(stored.dataset, sent);
  return at < 0 ? undefined : `differs at byte ${at} (stored ${stored.dataset.length} B, sent ${sent.length} B)`;
}

/** Looks up each instance and compares its bytes; `parallel` requests at a time. */
export async function checkPresence(rest: RestClient, instances: readonly GeneratedInstance[], parallel = 4): Promise<PresenceReport> {
  const report: PresenceReport = { checked: instances.length, found: 0, missing: [], duplicated: [], differing: [] };
  let next = 0;
  const worker = async () => {
    while (next < instances.length) {
      const instance = instances[next++]!;
      const uid = instance.sopInstanceUid;
      const ids = await lookupIds(rest, uid);
      if (ids.length === 0) {
        report.missing.push(uid);
        continue;
      }
      if (ids.length > 1) report.duplicated.push(uid);
      const difference = await storedDifference(rest, ids[0]!, instance);
      if (difference) report.differing.push(`${uid}: ${difference}`);
      else if (ids.length === 1) report.found++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  return report;
}

/** Which of these SOP Instance UIDs are stored (at least once), without reading files. */
export async function storedAmong(rest: RestClient, sopInstanceUids: readonly string[]): Promise<Set<string>> {
  const stored = new Set<string>();
  for (const uid of sopInstanceUids) if ((await lookupIds(rest, uid)).length > 0) stored.add(uid);
  return stored;
}

/** Instances of the patients whose ID starts with `prefix`, counted per SOP Instance UID (a duplicate shows as 2). */
export async function countBySopInstanceUid(rest: RestClient, patientIdPrefix: string): Promise<Map<string, number>> {
  const { status, value } = await rest.json<{ MainDicomTags?: { SOPInstanceUID?: string } }[]>({
    method: "POST",
    path: "/tools/find",
    body: JSON.stringify({ Level: "Instance", Query: { PatientID: `${patientIdPrefix}*` }, Expand: true }),
    timeoutMs: 60_000,
  });
  if (status !== 200) throw new Error(`POST /tools/find answered ${status}`);
  const counts = new Map<string, number>();
  for (const item of value ?? []) {
    const uid = item.MainDicomTags?.SOPInstanceUID ?? "(none)";
    counts.set(uid, (counts.get(uid) ?? 0) + 1);
  }
  return counts;
}
