// The smoke suite: what a modality and a user do with a deployment, in order,
// each check timed and, when it fails, named with its likely cause. The
// round trip stores a new instance over DICOM-TLS, finds it over HTTPS,
// compares its tags and bytes, and deletes it (also when a later check fails).
import dimse from "dcmjs-dimse";
import { chainCause, closedWithoutAnswerCause, connectionCause, dimseStatusCause, httpCause, nameCause, rejectionCause } from "./causes.ts";
import { associate, statusOf, type AssociationOutcome, type DicomEndpoint } from "./dicom-client.ts";
import { encodeDataset, firstDifference, generateInstance, mainTags, splitPart10, type GeneratedInstance } from "./instance.ts";
import { RestClient } from "./rest.ts";
import { issueClient, newCa } from "../tasks/lib/pki.ts";
import { publicTarget, type KeyMaterial, type SmokeTarget } from "./target.ts";
import { handshake, legacyCiphers, refusalOf, type HandshakeResult } from "./tls-probe.ts";

const { requests } = dimse;

export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  ms: number;
  /** What was observed (protocol, sizes, ids…). */
  detail: string;
  /** For failures: the likely cause; for skips: why. */
  cause?: string;
}

export interface SmokeReport {
  target: Record<string, unknown>;
  startedAt: string;
  ms: number;
  passed: boolean;
  checks: CheckResult[];
  /** Things the suite could not clean up. */
  leftovers: string[];
}

class Failure extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

class Skip extends Error {}

interface SuiteState {
  target: SmokeTarget;
  rest: RestClient;
  anonymous: RestClient;
  instance?: GeneratedInstance;
  stored: boolean;
  orthancId?: string;
  deleted: boolean;
}

interface Check {
  id: string;
  title: (target: SmokeTarget) => string;
  /** Checks whose success this one needs (it is skipped otherwise). */
  needs?: readonly string[];
  run: (state: SuiteState) => Promise<string>;
  /** Whether the check belongs to the suite for this target (default: always). */
  applies?: (target: SmokeTarget) => boolean;
}

/** Why the TLS checks cannot run on a target reached without its TLS ingress. */
const noTls = (target: SmokeTarget) => `no TLS to check: ${target.plain!.why}`;

const untrusted = /UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|SELF_SIGNED|CERT_SIGNATURE_FAILURE|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/;

/** Cause of an error thrown by an HTTPS request or a DICOM socket. */
function networkCause(error: NodeJS.ErrnoException, target: SmokeTarget, port: number, expectName: string): string {
  const code = error.code ?? "";
  if (untrusted.test(code)) return chainCause(code, target.caSource, undefined);
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || /does not match certificate's altnames/.test(error.message)) return nameCause(expectName, undefined);
  return connectionCause(error, target.host, port);
}

function assertHandshake(result: HandshakeResult, target: SmokeTarget, port: number, expectName: string): void {
  // An error also after a completed handshake: TLS 1.3 servers that want a client certificate say so then.
  if (result.error) throw new Failure(connectionCause(result.error, target.host, port));
  if (!result.completed) throw new Failure(`the TLS handshake on ${port} did not complete`);
  if (result.chainError) throw new Failure(chainCause(result.chainError, target.caSource, result.peer));
  if (result.nameError) throw new Failure(nameCause(expectName, result.peer));
}

function tlsEndpoint(target: SmokeTarget, kind: "https" | "dicom") {
  return kind === "https"
    ? { port: target.httpsPort, servername: target.webName as string | undefined, expectName: target.webName }
    : { port: target.dicomPort, servername: undefined, expectName: target.dicomName, ...(target.client ? { cert: target.client.cert, key: target.client.key } : {}) };
}

function tlsCheck(kind: "https" | "dicom"): Check {
  return {
    id: `tls-${kind}`,
    title: (t) => `${kind === "https" ? "HTTPS" : "DICOM"} :${kind === "https" ? t.httpsPort : t.dicomPort} TLS: chain, SAN ${kind === "https" ? t.webName : t.dicomName}, TLS 1.2+`,
    run: async ({ target }) => {
      if (target.plain) throw new Skip(noTls(target));
      const endpoint = tlsEndpoint(target, kind);
      const common = { host: target.host, ...endpoint, ca: target.ca };
      const best = await handshake({ ...common, minVersion: "TLSv1.2", maxVersion: "TLSv1.3" });
      assertHandshake(best, target, endpoint.port, endpoint.expectName);
      const only12 = await handshake({ ...common, minVersion: "TLSv1.2", maxVersion: "TLSv1.2" });
      if (!only12.completed || only12.error) {
        throw new Failure(`TLS 1.2 is refused (${best.protocol} works): clients limited to TLS 1.2, as many modalities are, cannot connect`);
      }
      const sni = endpoint.servername ? `SNI ${endpoint.servername}` : "no SNI";
      return `${best.protocol} ${best.cipher}, TLS 1.2 accepted, ${sni}; ${best.peer?.subject} signed by the CA`;
    },
  };
}

function legacyCheck(kind: "https" | "dicom"): Check {
  return {
    id: `tls-${kind}-legacy`,
    title: (t) => `${kind === "https" ? "HTTPS" : "DICOM"} :${kind === "https" ? t.httpsPort : t.dicomPort} refuses TLS 1.0 and 1.1`,
    run: async ({ target }) => {
      if (target.plain) throw new Skip(noTls(target));
      const endpoint = tlsEndpoint(target, kind);
      const refusals: string[] = [];
      for (const [version, label] of [["TLSv1", "TLS 1.0"], ["TLSv1.1", "TLS 1.1"]] as const) {
        const result = await handshake({ host: target.host, ...endpoint, ca: target.ca, minVersion: version, maxVersion: version, ciphers: legacyCiphers });
        if (result.error?.code === "ERR_SSL_NO_PROTOCOLS_AVAILABLE") {
          throw new Failure(`this client could not offer ${label} (its OpenSSL refuses), so the check proves nothing`);
        }
        if (!result.tcpConnected) throw new Failure(connectionCause(result.error ?? new Error("no connection"), target.host, endpoint.port));
        if (result.completed) throw new Failure(`the server accepts ${label} (${result.cipher}): set the gateway's minimum TLS version to 1.2`);
        const why = (result.error?.code ?? result.error?.message ?? "closed").replace(/^ERR_SSL_/, "").toLowerCase().replaceAll("_", " ");
        refusals.push(`${label}: ${why}`);
      }
      return refusals.join("; ");
    },
  };
}

async function rest<T>(state: SuiteState, client: RestClient, options: Parameters<RestClient["send"]>[0]) {
  try {
    return await client.json<T>(options);
  } catch (error) {
    throw new Failure(networkCause(error as NodeJS.ErrnoException, state.target, state.target.httpsPort, state.target.webName));
  }
}

/** DICOM over TLS to the target, as a modality connects: by address, no SNI, the certificate checked against the DICOM name, ours presented. */
export function dicomEndpoint(target: SmokeTarget, callingAet = target.callingAet): DicomEndpoint {
  if (target.plain) return { host: target.host, port: target.dicomPort, callingAet };
  return { host: target.host, port: target.dicomPort, callingAet, tls: { ca: target.ca, expectName: target.dicomName, ...(target.client ? { clientCert: target.client } : {}) } };
}

/** A client certificate the DICOM port must refuse: none, another CA's, an expired one from the modality CA. */
function refusedClientCheck(id: string, what: string, client: (target: SmokeTarget) => Promise<KeyMaterial | undefined | string>): Check {
  return {
    id,
    title: (t) => `DICOM :${t.dicomPort} refuses ${what}`,
    needs: ["tls-dicom"],
    run: async ({ target }) => {
      if (target.plain) throw new Skip(noTls(target));
      if (target.clientAuth === undefined) throw new Skip("unknown whether the target requires client certificates (--client-auth required|optional|none)");
      if (target.clientAuth !== "required") throw new Skip(`the target does not require client certificates (client auth ${target.clientAuth})`);
      const material = await client(target);
      if (typeof material === "string") throw new Skip(material);
      const endpoint = tlsEndpoint(target, "dicom");
      const result = await handshake({ host: target.host, port: endpoint.port, ca: target.ca, expectName: endpoint.expectName, minVersion: "TLSv1.2", maxVersion: "TLSv1.3", ...(material ? { cert: material.cert, key: material.key } : {}) });
      if (!result.tcpConnected) throw new Failure(connectionCause(result.error ?? new Error("no connection"), target.host, endpoint.port));
      const why = refusalOf(result);
      if (!why) throw new Failure(`the handshake with ${what} completed (${result.protocol}): the DICOM port does not verify client certificates against the modality CA only`);
      return `refused: ${why}${material ? ` (${material.source})` : ""}`;
    },
  };
}

function assertAccepted(outcome: AssociationOutcome, target: SmokeTarget, calledAet: string, expectedResponses: number): void {
  if (outcome.rejection) throw new Failure(rejectionCause(outcome.rejection, calledAet, target.callingAet));
  if (outcome.timedOut) throw new Failure(`no DICOM answer on ${target.dicomPort} within 30 s`);
  if (!outcome.accepted) {
    if (outcome.socketError) throw new Failure(networkCause(outcome.socketError, target, target.dicomPort, target.dicomName));
    throw new Failure(closedWithoutAnswerCause(target.dicomPort));
  }
  // dcmjs-dimse reports a refused TLS handshake or an abort only as "closed": count the answers.
  if (outcome.responses.length < expectedResponses) {
    throw new Failure(`association accepted, then closed without ${expectedResponses === 1 ? "a response" : "all responses"} (aborted by the server? see its log)`);
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 10_240 ? 1 : 0)} KB`;

export const checks: readonly Check[] = [
  tlsCheck("https"),
  legacyCheck("https"),
  tlsCheck("dicom"),
  legacyCheck("dicom"),
  refusedClientCheck("dicom-client-none", "a client without a certificate", async () => undefined),
  refusedClientCheck("dicom-client-other-ca", "a certificate from another CA", async () => {
    const ca = await newCa("korthweb smoke: some other CA", 2);
    const foreign = await issueClient(ca, { commonName: "korthweb-smoke-foreign", days: 1 });
    return { ...foreign, source: "a CA made for this check" };
  }),
  refusedClientCheck("dicom-client-expired", "an expired certificate from the modality CA", async (target) => {
    if (!target.modalityCa) return "the modality CA's key is not available to smoke (local stack: tls/modality-ca.key; kube: --modality-ca-secret), so no expired certificate from it can be made";
    const day = 86_400_000;
    const expired = await issueClient(target.modalityCa, { commonName: "korthweb-smoke-expired", notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) });
    return { ...expired, source: `expired yesterday, signed by ${target.modalityCa.source}` };
  }),
  refusedClientCheck("dicom-client-foreign", "another deployment's client certificate", async (target) =>
    target.foreignClient ?? "no other deployment's certificate given (--foreign-client-secret; gitops: the other tenant's)",
  ),
  {
    id: "rest-auth",
    title: () => "REST with credentials: GET /system → 200",
    run: async (state) => {
      if (!state.target.credentials) throw new Failure(`no credentials given (${state.target.credentialsSource})`);
      const { status, value } = await rest<{ Version?: string; DicomAet?: string; DatabaseBackendPlugin?: string | null }>(state, state.rest, { path: "/system" });
      if (status !== 200) throw new Failure(`${httpCause(status, true, state.target.webName)} (${state.target.credentialsSource})`);
      const database = value?.DatabaseBackendPlugin ? value.DatabaseBackendPlugin.replace(/^.*\/lib/, "").replace(/\.so.*$/, "") : "built-in SQLite";
      const aetNote = value?.DicomAet && value.DicomAet !== state.target.calledAet ? ` (not ${state.target.calledAet}!)` : "";
      return `Orthanc ${value?.Version ?? "?"}, AE title ${value?.DicomAet ?? "?"}${aetNote}, index ${database}`;
    },
  },
  {
    id: "rest-no-auth",
    title: () => "REST without credentials: GET /system → 401",
    run: async (state) => {
      const { status } = await rest(state, state.anonymous, { path: "/system", authenticate: false });
      if (status !== 401) throw new Failure(httpCause(status, false, state.target.webName));
      return "401";
    },
  },
  {
    id: "rest-foreign-credentials",
    title: () => "REST with another deployment's credentials: GET /system → 401",
    applies: (target) => target.foreignCredentials !== undefined,
    run: async (state) => {
      const foreign = state.target.foreignCredentials!;
      const client = new RestClient(state.target, foreign);
      try {
        const { status } = await rest(state, client, { path: "/system" });
        if (status !== 401) throw new Failure(`answered ${status}: ${foreign.source}'s login works here too (shared credentials between deployments?)`);
        return `401 (${foreign.source})`;
      } finally {
        client.close();
      }
    },
  },
  {
    id: "dicom-echo",
    title: (t) => `C-ECHO over ${t.plain ? "plain TCP" : "TLS"} to ${t.calledAet}`,
    run: async ({ target }) => {
      const outcome = await associate(dicomEndpoint(target), target.calledAet, [new requests.CEchoRequest()]);
      assertAccepted(outcome, target, target.calledAet, 1);
      const status = statusOf(outcome.responses[0]!.response);
      if (status !== 0) throw new Failure(`C-ECHO answered ${dimseStatusCause(status)}`);
      return `success, calling AE ${target.callingAet}`;
    },
  },
  {
    id: "dicom-wrong-aet",
    title: () => "wrong called AE title is rejected",
    run: async ({ target }) => {
      if (target.checksCalledAet === undefined) throw new Skip("unknown whether the target checks the called AE title (--check-called-aet yes|no)");
      if (!target.checksCalledAet) throw new Skip("the target does not check the called AE title (DicomCheckCalledAet false)");
      const wrong = target.calledAet === "KORTHWEB-WRONG" ? "KORTHWEB-WRONG2" : "KORTHWEB-WRONG";
      const outcome = await associate(dicomEndpoint(target), wrong, [new requests.CEchoRequest()]);
      if (outcome.rejection) return rejectionCause(outcome.rejection, wrong, target.callingAet).replace(/^association rejected: /, "rejected: ");
      if (outcome.accepted) throw new Failure(`called AE title "${wrong}" was accepted: the target does not check it (DicomCheckCalledAet false?)`);
      assertAccepted(outcome, target, wrong, 1);
      return "rejected";
    },
  },
  {
    id: "dicom-unregistered-aet",
    title: (t) => `unregistered calling AE title is rejected${t.plain ? "" : " (valid certificate)"}`,
    needs: ["dicom-echo"],
    run: async ({ target }) => {
      if (target.checksCallingAet === undefined) throw new Skip("unknown whether the target registers modalities (DicomAlwaysAllowEcho/Store)");
      if (!target.checksCallingAet) throw new Skip("the target lets any calling AE title echo and store (no registered modalities)");
      const stranger = target.callingAet === "KORTHWEB-NOBODY" ? "KORTHWEB-NOBODY2" : "KORTHWEB-NOBODY";
      const outcome = await associate(dicomEndpoint(target, stranger), target.calledAet, [new requests.CEchoRequest()]);
      if (outcome.rejection) return `${rejectionCause(outcome.rejection, target.calledAet, stranger).replace(/^association rejected: /, "rejected: ")}`;
      if (outcome.accepted) throw new Failure(`calling AE title "${stranger}" was accepted: Orthanc lets unknown AE titles in (DicomAlwaysAllowEcho true?)`);
      assertAccepted(outcome, { ...target, callingAet: stranger }, target.calledAet, 1);
      return "rejected";
    },
  },
  {
    id: "dicom-store",
    title: (t) => `C-STORE of a new instance over ${t.plain ? "plain TCP" : "TLS"}`,
    run: async (state) => {
      const { target } = state;
      state.instance = generateInstance({ pixelBytes: 32 * 1024, patientId: "KORTHWEB-SMOKE", studyDescription: `korthweb smoke ${new Date().toISOString()}` });
      const outcome = await associate(dicomEndpoint(target), target.calledAet, [new requests.CStoreRequest(state.instance.dataset)]);
      assertAccepted(outcome, target, target.calledAet, 1);
      const status = statusOf(outcome.responses[0]!.response);
      if (status !== 0 && (status & 0xf000) !== 0xb000) throw new Failure(`C-STORE answered ${dimseStatusCause(status)}`);
      state.stored = true;
      return `${kb(state.instance.pixelBytes)} pixel data, SOP Instance UID ${state.instance.sopInstanceUid}`;
    },
  },
  {
    id: "rest-lookup",
    title: () => "REST /tools/lookup finds the stored instance",
    needs: ["dicom-store", "rest-auth"],
    run: async (state) => {
      const id = await lookup(state);
      if (!id) throw new Failure("not found over REST: the DICOM and HTTPS ports reach different Orthancs or databases, or the store was not committed");
      state.orthancId = id;
      return `Orthanc ID ${id}`;
    },
  },
  {
    id: "rest-tags",
    title: () => "its main tags equal what was sent",
    needs: ["rest-lookup"],
    run: async (state) => {
      const { status, value } = await rest<Record<string, string>>(state, state.rest, { path: `/instances/${state.orthancId}/simplified-tags` });
      if (status !== 200 || !value) throw new Failure(`GET simplified-tags: ${httpCause(status, true, state.target.webName)}`);
      const sent = state.instance!.tags;
      const differing = mainTags.filter((tag) => String(value[tag] ?? "") !== sent[tag]);
      if (differing.length) throw new Failure(`tags differ: ${differing.map((tag) => `${tag} sent "${sent[tag]}", got "${value[tag] ?? ""}"`).join("; ")}`);
      return `${mainTags.length} tags equal`;
    },
  },
  {
    id: "rest-file",
    title: () => "its file's data set bytes equal what was sent",
    needs: ["rest-lookup"],
    run: async (state) => {
      let response;
      try {
        response = await state.rest.send({ path: `/instances/${state.orthancId}/file` });
      } catch (error) {
        throw new Failure(networkCause(error as NodeJS.ErrnoException, state.target, state.target.httpsPort, state.target.webName));
      }
      if (response.status !== 200) throw new Failure(`GET file: ${httpCause(response.status, true, state.target.webName)}`);
      let stored;
      try {
        stored = splitPart10(response.body);
      } catch (error) {
        throw new Failure(`the file is not DICOM: ${(error as Error).message}`);
      }
      const sent = encodeDataset(state.instance!.dataset, stored.transferSyntaxUid);
      const at = firstDifference(stored.dataset, sent);
      if (at >= 0) throw new Failure(`data set differs from what was sent at byte ${at} (stored ${stored.dataset.length} B, sent ${sent.length} B)`);
      return `${kb(response.body.length)} file, ${sent.length} data set bytes identical (transfer syntax ${stored.transferSyntaxUid})`;
    },
  },
  {
    id: "rest-delete",
    title: () => "DELETE removes it",
    needs: ["rest-lookup"],
    run: async (state) => {
      const { status } = await rest(state, state.rest, { method: "DELETE", path: `/instances/${state.orthancId}` });
      if (status !== 200) throw new Failure(`DELETE: ${httpCause(status, true, state.target.webName)}`);
      if (await lookup(state)) throw new Failure("the instance is still found after DELETE");
      state.deleted = true;
      return "deleted, no longer found";
    },
  },
];

async function lookup(state: SuiteState): Promise<string | undefined> {
  const { status, value } = await rest<{ ID: string; Type: string }[]>(state, state.rest, {
    method: "POST",
    path: "/tools/lookup",
    body: state.instance!.sopInstanceUid,
  });
  if (status !== 200) throw new Failure(`POST /tools/lookup: ${httpCause(status, true, state.target.webName)}`);
  return value?.find((item) => item.Type === "Instance")?.ID;
}

export interface RunOptions {
  /** Called as each check finishes (live table rows). */
  onResult?: (result: CheckResult) => void;
  /** Run only these checks (by id), e.g. the TLS ones. */
  only?: readonly string[];
}

export async function runSmoke(target: SmokeTarget, options: RunOptions = {}): Promise<SmokeReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const state: SuiteState = { target, rest: new RestClient(target), anonymous: new RestClient(target, undefined), stored: false, deleted: false };
  const results: CheckResult[] = [];
  const leftovers: string[] = [];
  try {
    for (const check of checks.filter((c) => (!options.only || options.only.includes(c.id)) && (c.applies?.(target) ?? true))) {
      const title = check.title(target);
      const checkStarted = performance.now();
      const unmet = (check.needs ?? []).filter((id) => results.find((r) => r.id === id)?.status !== "pass");
      let result: CheckResult;
      if (unmet.length) {
        result = { id: check.id, title, status: "skip", ms: 0, detail: "", cause: `needs ${unmet.join(", ")}` };
      } else {
        try {
          const detail = await check.run(state);
          result = { id: check.id, title, status: "pass", ms: performance.now() - checkStarted, detail };
        } catch (error) {
          const ms = performance.now() - checkStarted;
          if (error instanceof Skip) result = { id: check.id, title, status: "skip", ms, detail: "", cause: error.message };
          else if (error instanceof Failure) result = { id: check.id, title, status: "fail", ms, detail: "", cause: error.reason };
          else result = { id: check.id, title, status: "fail", ms, detail: "", cause: `unexpected error: ${(error as Error).stack ?? String(error)}` };
        }
      }
      results.push(result);
      options.onResult?.(result);
    }
    if (state.stored && !state.deleted) await cleanUp(state, leftovers);
  } finally {
    state.rest.close();
    state.anonymous.close();
  }
  return {
    target: publicTarget(target),
    startedAt,
    ms: performance.now() - started,
    passed: results.every((result) => result.status !== "fail"),
    checks: results,
    leftovers,
  };
}

/** Deletes the smoke instance when a check failed before "rest-delete" did. */
async function cleanUp(state: SuiteState, leftovers: string[]): Promise<void> {
  const what = `instance ${state.instance!.sopInstanceUid} (patient KORTHWEB-SMOKE)`;
  try {
    const id = state.orthancId ?? (await lookup(state));
    if (!id) {
      leftovers.push(`${what}: not found over REST, so not deleted`);
      return;
    }
    const { status } = await state.rest.send({ method: "DELETE", path: `/instances/${id}` });
    if (status !== 200) leftovers.push(`${what}: DELETE answered ${status}`);
  } catch (error) {
    leftovers.push(`${what}: ${(error as Error).message}`);
  }
}
