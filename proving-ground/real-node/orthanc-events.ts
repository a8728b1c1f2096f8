// The two events after which Orthanc first publishes a metric: a C-STORE
// (orthanc_store_dicom_duration_ms) and a failed job (orthanc_jobs_total_failed).
// Made against one Orthanc pod directly (its pod IP: plain DICOM and HTTP
// inside the cluster, as the gateway or sidecar would forward them), as a
// registered modality: the calling AE title, the called one and the modality
// are read from the pod's REST API, not assumed. The failed job is a C-STORE
// job to that modality, whose address in the configuration answers nothing
// inside the pod: Orthanc's job fails on the connection, as it does when a
// modality is down.
import dimse from "dcmjs-dimse";
import { associate, statusOf } from "../../smoke/dicom-client.ts";
import { generateInstance } from "../../smoke/instance.ts";

const { requests } = dimse;

export interface OrthancPod {
  address: string;
  httpPort: number;
  dicomPort: number;
  auth: { username: string; password: string };
}

async function rest<T>(pod: OrthancPod, path: string, init: { method?: string; body?: string } = {}): Promise<T> {
  const response = await fetch(`http://${pod.address}:${pod.httpPort}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Basic ${Buffer.from(`${pod.auth.username}:${pod.auth.password}`).toString("base64")}`, "content-type": "application/json" },
    ...(init.body !== undefined ? { body: init.body } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path} on ${pod.address}: HTTP ${response.status} ${body.slice(0, 200)}`);
  return (body ? JSON.parse(body) : undefined) as T;
}

export interface SystemFacts {
  Version: string;
  DicomAet: string;
  DatabaseBackendPlugin: string | null;
  StorageAreaPlugin: string | null;
}

export const systemOf = (pod: OrthancPod) => rest<SystemFacts>(pod, "/system");

/** The first modality the configuration registers (its name and AE title): stores are only accepted from one. */
async function registeredModality(pod: OrthancPod): Promise<{ name: string; aet: string }> {
  const modalities = await rest<Record<string, { AET: string }>>(pod, "/modalities?expand");
  const [name, modality] = Object.entries(modalities)[0] ?? [];
  if (!name || !modality) throw new Error(`Orthanc at ${pod.address} registers no DICOM modality: it accepts no C-STORE (DicomAlwaysAllowStore is off)`);
  return { name, aet: modality.AET };
}

export interface StoreEvent {
  sopInstanceUid: string;
  instanceId: string;
  status: number;
}

/** One C-STORE of a fresh instance, as the registered modality; the stored instance's Orthanc ID. */
export async function storeOneInstance(pod: OrthancPod): Promise<StoreEvent> {
  const [{ DicomAet }, modality] = await Promise.all([systemOf(pod), registeredModality(pod)]);
  const instance = generateInstance({ pixelBytes: 4096, patientId: `korthweb-metrics-${Date.now()}`, studyDescription: "korthweb real-node metrics check" });
  const outcome = await associate({ host: pod.address, port: pod.dicomPort, callingAet: modality.aet }, DicomAet, [new requests.CStoreRequest(instance.dataset)], { timeoutMs: 30_000 });
  const response = outcome.responses[0]?.response;
  if (!outcome.accepted || !response) {
    throw new Error(`C-STORE to ${pod.address}:${pod.dicomPort} as ${modality.aet} → ${DicomAet}: ${outcome.rejection ? `association rejected ${JSON.stringify(outcome.rejection)}` : (outcome.socketError?.message ?? outcome.networkError ?? "no response")}`);
  }
  const found = await rest<{ ID: string; Type: string }[]>(pod, "/tools/lookup", { method: "POST", body: instance.sopInstanceUid });
  const instanceId = found.find((item) => item.Type === "Instance")?.ID;
  if (!instanceId) throw new Error(`C-STORE answered status ${statusOf(response)}, but ${pod.address} does not find SOP Instance UID ${instance.sopInstanceUid}`);
  return { sopInstanceUid: instance.sopInstanceUid, instanceId, status: statusOf(response) };
}

export interface JobEvent {
  jobId: string;
  state: string;
  error: string;
}

/** An asynchronous C-STORE job of `instanceId` to the registered modality, followed until it ends. */
export async function failOneJob(pod: OrthancPod, instanceId: string, timeoutMs = 120_000): Promise<JobEvent> {
  const modality = await registeredModality(pod);
  const { ID } = await rest<{ ID: string }>(pod, `/modalities/${encodeURIComponent(modality.name)}/store`, { method: "POST", body: JSON.stringify({ Resources: [instanceId], Asynchronous: true }) });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await rest<{ State: string; ErrorDescription?: string; ErrorDetails?: string }>(pod, `/jobs/${ID}`);
    if (job.State === "Success" || job.State === "Failure") return { jobId: ID, state: job.State, error: [job.ErrorDescription, job.ErrorDetails].filter(Boolean).join(": ") };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`job ${ID} on ${pod.address} did not end within ${timeoutMs / 1000} s`);
}

export const deleteInstance = (pod: OrthancPod, instanceId: string) => rest<unknown>(pod, `/instances/${instanceId}`, { method: "DELETE" });
