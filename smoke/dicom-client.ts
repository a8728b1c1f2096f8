// One DICOM association with dcmjs-dimse, over TLS or plain TCP, reporting
// what happened: accepted or rejected (and why), the responses, or the socket
// error that ended it. dcmjs-dimse creates its socket inside client.send()
// with net.connect/tls.connect and offers no option for TCP_NODELAY or for the
// name the certificate must carry, so during that synchronous call we wrap
// those two functions: the socket gets setNoDelay(true) (Nagle costs ~40 ms
// per small PDU), the TLS check compares the certificate with the DICOM host
// name (we connect by IP, sending no SNI, as modalities do), and its errors
// are kept (dcmjs-dimse passes on only a message).
import net from "node:net";
import tls from "node:tls";
import dimse from "dcmjs-dimse";

const { Client } = dimse;
dimse.log.setLevel("silent");

export interface DicomEndpoint {
  host: string;
  port: number;
  callingAet: string;
  /** TLS settings; undefined for plain DICOM (the bench's direct path). */
  tls?: { ca?: string; expectName: string; minVersion?: tls.SecureVersion; clientCert?: { cert: string; key: string } };
}

export type DimseRequest = InstanceType<typeof dimse.requests.Request>;
export type DimseResponse = InstanceType<typeof dimse.responses.Response>;

export interface AssociationOutcome {
  accepted: boolean;
  rejection?: { result: number; source: number; reason: number };
  /** Responses in the order they arrived, with the time each arrived (ms since start) and the index of its request. */
  responses: { response: DimseResponse; at: number; index: number }[];
  /** The socket's own error (TLS or TCP), when one ended the association. */
  socketError?: NodeJS.ErrnoException;
  /** dcmjs-dimse's network error message, when any. */
  networkError?: string;
  timedOut: boolean;
  /** When the association was accepted (ms since start). */
  acceptedAt?: number;
  /** True when it ended with an orderly release (A-RELEASE-RP), not an abort or a dropped connection. */
  released: boolean;
  ms: number;
}

type ConnectFunction = (...args: unknown[]) => net.Socket;

/** Runs `send` while net.connect/tls.connect hand out no-delay sockets (and apply `extra` TLS options). */
function withSocketHook(extra: tls.ConnectionOptions, onSocket: (socket: net.Socket) => void, send: () => void): void {
  const originalNet = net.connect as ConnectFunction;
  const originalTls = tls.connect as ConnectFunction;
  const hook = (original: ConnectFunction, isTls: boolean): ConnectFunction => (...args) => {
    const [first, ...rest] = args;
    const options = isTls && first && typeof first === "object" ? { ...(first as tls.ConnectionOptions), ...extra } : first;
    const socket = original(options, ...rest);
    socket.setNoDelay(true);
    onSocket(socket);
    return socket;
  };
  const writableNet = net as unknown as { connect: ConnectFunction };
  const writableTls = tls as unknown as { connect: ConnectFunction };
  writableNet.connect = hook(originalNet, false);
  writableTls.connect = hook(originalTls, true);
  try {
    send();
  } finally {
    writableNet.connect = originalNet;
    writableTls.connect = originalTls;
  }
}

export interface AssociateOptions {
  timeoutMs?: number;
  /** Invoke up to this many requests before waiting for responses (1 = one at a time). */
  maxOperations?: number;
  /** Called as each response arrives (the outcome comes only when the association ends). */
  onResponse?: (index: number, response: DimseResponse, at: number) => void;
}

export function associate(endpoint: DicomEndpoint, calledAet: string, requests: readonly DimseRequest[], options: AssociateOptions = {}): Promise<AssociationOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  return new Promise((resolve) => {
    const outcome: AssociationOutcome = { accepted: false, responses: [], timedOut: false, ms: 0, released: false };
    const client = new Client();
    let socket: net.Socket | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      outcome.ms = elapsed();
      socket?.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      finish();
    }, options.timeoutMs ?? 30_000);

    requests.forEach((request, index) => {
      request.on("response", (response: DimseResponse) => {
        const at = elapsed();
        outcome.responses.push({ response, at, index });
        options.onResponse?.(index, response, at);
      });
      client.addRequest(request);
    });
    client.on("associationAccepted", () => {
      outcome.accepted = true;
      outcome.acceptedAt = elapsed();
    });
    client.on("associationRejected", (rejection: { result: number; source: number; reason: number }) => {
      outcome.rejection = rejection;
    });
    client.on("associationReleased", () => {
      outcome.released = true;
    });
    client.on("networkError", (error: Error) => {
      outcome.networkError = error.message;
    });
    client.on("closed", finish);

    const extra: tls.ConnectionOptions = endpoint.tls
      ? {
          checkServerIdentity: (_host, cert) => tls.checkServerIdentity(endpoint.tls!.expectName, cert),
          // Mutual TLS: dcmjs-dimse's securityOptions would pass them too; set here so the socket surely has them.
          ...(endpoint.tls.clientCert ? { cert: endpoint.tls.clientCert.cert, key: endpoint.tls.clientCert.key } : {}),
        }
      : {};
    const sendOptions = {
      connectTimeout: 5_000,
      associationTimeout: 10_000,
      pduTimeout: 30_000,
      ...(options.maxOperations && options.maxOperations > 1
        ? { asyncOps: { maxAsyncOpsInvoked: options.maxOperations, maxAsyncOpsPerformed: options.maxOperations } }
        : {}),
      ...(endpoint.tls
        ? { securityOptions: { ca: endpoint.tls.ca, rejectUnauthorized: true, minVersion: endpoint.tls.minVersion ?? "TLSv1.2" } }
        : {}),
    };
    withSocketHook(
      extra,
      (created) => {
        socket = created;
        created.on("error", (error: NodeJS.ErrnoException) => {
          outcome.socketError ??= error;
        });
      },
      () => client.send(endpoint.host, endpoint.port, endpoint.callingAet, calledAet, sendOptions),
    );
  });
}

/** The status word of a response. */
export function statusOf(response: DimseResponse): number {
  return response.getStatus();
}
