// A Git server on this machine for Flux on the real node: git's own smart-HTTP
// server program (`git http-backend`, a CGI program shipped with git) behind
// node:http, serving a bare clone of this repository. Flux's source-controller
// clones over http(s) or ssh only (its GitRepository URL pattern refuses
// git://, so `git daemon` will not do). Own code for the CGI hop only: the
// CGI-capable web servers Debian ships (lighttpd, apache2) install a
// system-wide service that starts on port 80, and the CGI contract here is a
// few environment variables and a header block. Read-only: git http-backend
// refuses pushes from an unauthenticated client; commits reach the served
// repository on disk (publish, then commit in a working clone and push to it
// as a local path).
//
//   node proving-ground/real-node/git-server.ts [--host 192.0.2.254] [--port 8418]
// publishes this checkout's HEAD as branch main and serves it until interrupted.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { run } from "../../tasks/lib/exec.ts";
import { log } from "../../tasks/lib/log.ts";
import { repoRoot, workDir } from "../../tasks/lib/paths.ts";
import { addresses } from "./layout.ts";

/** The repository's name under the server's root: URLs are http://<host>:<port>/korthweb.git. */
export const servedRepositoryName = "korthweb.git";

/** Makes `<root>/korthweb.git`, a bare repository whose branch `branch` is `checkout`'s HEAD (committed state only). */
export async function publishCheckout(checkout: string, root: string, branch = "main"): Promise<string> {
  const bare = join(root, servedRepositoryName);
  rmSync(bare, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  await run("git", ["init", "--quiet", "--bare", "--initial-branch", branch, bare], { silent: true });
  await run("git", ["-C", checkout, "push", "--quiet", bare, `HEAD:refs/heads/${branch}`], { silent: true });
  return bare;
}

export interface GitRequest {
  method: string;
  path: string;
  status: number;
}

export interface GitServer {
  /** http://host:port/korthweb.git */
  url: string;
  /** Every request served, in order (what source-controller really fetched). */
  requests: GitRequest[];
  close: () => Promise<void>;
}

/** Runs `git http-backend` for one request: the request's body in, its CGI output (headers, blank line, body) out. */
function serveWithBackend(projectRoot: string, request: IncomingMessage, response: ServerResponse, done: (status: number) => void): void {
  const url = new URL(request.url ?? "/", "http://git.invalid");
  const header = (name: string) => (typeof request.headers[name] === "string" ? (request.headers[name] as string) : "");
  const backend = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_PROJECT_ROOT: projectRoot,
      // Serve every repository under the root without a git-daemon-export-ok file.
      GIT_HTTP_EXPORT_ALL: "1",
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PROTOCOL: "HTTP/1.1",
      REQUEST_METHOD: request.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ""),
      CONTENT_TYPE: header("content-type"),
      ...(header("content-length") ? { CONTENT_LENGTH: header("content-length") } : {}),
      REMOTE_ADDR: request.socket.remoteAddress ?? "",
      HTTP_CONTENT_ENCODING: header("content-encoding"),
      HTTP_GIT_PROTOCOL: header("git-protocol"),
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  request.pipe(backend.stdin);
  let head = Buffer.alloc(0);
  let headersSent = false;
  let status = 200;
  let stderr = "";
  backend.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  backend.stdout.on("data", (chunk: Buffer) => {
    if (headersSent) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n") >= 0 ? { at: head.indexOf("\r\n\r\n"), length: 4 } : head.indexOf("\n\n") >= 0 ? { at: head.indexOf("\n\n"), length: 2 } : undefined;
    if (!end) return;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end.at).toString("latin1").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    headersSent = true;
    response.write(head.subarray(end.at + end.length));
  });
  backend.on("close", (code) => {
    if (!headersSent) {
      status = 500;
      response.writeHead(500, { "Content-Type": "text/plain" });
      response.write(`git http-backend exited ${code}: ${stderr}`);
    }
    response.end();
    done(status);
  });
}

/** Serves every repository under `projectRoot` over smart HTTP at host:port (port 0: any free port). */
export function startGitServer(projectRoot: string, host: string = addresses.nodeIp, port = 0): Promise<GitServer> {
  const requests: GitRequest[] = [];
  const server: Server = createServer((request, response) => {
    const entry: GitRequest = { method: request.method ?? "", path: request.url ?? "", status: 0 };
    requests.push(entry);
    serveWithBackend(projectRoot, request, response, (status) => (entry.status = status));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const bound = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${bound.port}/${servedRepositoryName}`,
        requests,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { host: { type: "string", default: addresses.nodeIp }, port: { type: "string", default: "8418" } } });
  const root = join(workDir, "git-server");
  const bare = await publishCheckout(repoRoot, root);
  const server = await startGitServer(root, values.host, Number(values.port));
  log.ok(`serving ${bare} (this checkout's HEAD as branch main) at ${server.url}; Ctrl-C stops`);
  process.on("SIGINT", () => void server.close().then(() => process.exit(0)));
}
