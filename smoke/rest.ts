// HTTPS to Orthanc's REST API through the gateway: connect to the target's
// address, send the web host name as SNI and Host header, verify the
// certificate against the deployment's CA. One keep-alive agent per client, so
// the checks after the first reuse the TLS session.
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent, request } from "node:https";
import type { Credentials, SmokeTarget } from "./target.ts";

export interface RestResponse {
  status: number;
  body: Buffer;
  ms: number;
}

export interface RestRequest {
  method?: string;
  path: string;
  body?: string | Buffer;
  /** Send the target's credentials (default true). */
  authenticate?: boolean;
  timeoutMs?: number;
}

export class RestClient {
  readonly target: SmokeTarget;
  readonly credentials: Credentials | undefined;
  private readonly agent: Agent | HttpAgent;

  constructor(target: SmokeTarget, credentials: Credentials | undefined = target.credentials) {
    this.target = target;
    this.credentials = credentials;
    // Plain HTTP only when the target says it is reached without its TLS ingress (SmokeTarget.plain).
    this.agent = target.plain ? new HttpAgent({ keepAlive: true, maxSockets: 4 }) : new Agent({ keepAlive: true, maxSockets: 4, ...(target.ca ? { ca: target.ca } : {}), minVersion: "TLSv1.2" });
  }

  send(options: RestRequest): Promise<RestResponse> {
    const { target } = this;
    const started = performance.now();
    const headers: Record<string, string> = {
      host: target.httpsPort === 443 ? target.webName : `${target.webName}:${target.httpsPort}`,
      accept: "application/json, application/dicom, */*",
    };
    if (options.authenticate !== false && this.credentials) {
      headers.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
    }
    if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));
    return new Promise((resolve, reject) => {
      const req = (target.plain ? httpRequest : request)(
        {
          host: target.host,
          port: target.httpsPort,
          ...(target.plain ? {} : { servername: target.webName }),
          method: options.method ?? "GET",
          path: options.path,
          headers,
          agent: this.agent as Agent,
          timeout: options.timeoutMs ?? 15_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - started }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => {
        const error = new Error(`no HTTP answer within ${options.timeoutMs ?? 15_000} ms`) as NodeJS.ErrnoException;
        error.code = "ETIMEDOUT";
        req.destroy(error);
      });
      req.on("error", reject);
      req.end(options.body);
    });
  }

  async json<T>(options: RestRequest): Promise<{ status: number; value: T | undefined; ms: number }> {
    const response = await this.send(options);
    let value: T | undefined;
    try {
      value = response.status < 300 ? (JSON.parse(response.body.toString("utf8")) as T) : undefined;
    } catch {
      value = undefined;
    }
    return { status: response.status, value, ms: response.ms };
  }

  close(): void {
    this.agent.destroy();
  }
}
