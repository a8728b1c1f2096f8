// A tiny stand-in for the Kubernetes API server's read-only discovery
// endpoints, so preflight can be exercised with the real kubectl against
// versions and CRD sets of our choosing. Binds 127.0.0.1 only.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { scratchDir } from "./scratch.ts";

export interface FakeApiServer {
  url: string;
  close(): Promise<void>;
}

export async function startFakeApiServer(options: { version: string; crds: string[] }): Promise<FakeApiServer> {
  const server: Server = createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const [major, minor] = options.version.replace(/^v/, "").split(".");
    if (request.url?.startsWith("/version")) return send(200, { major, minor, gitVersion: options.version, platform: "linux/amd64" });
    if (request.url?.startsWith("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")) {
      return send(200, { kind: "CustomResourceDefinitionList", apiVersion: "apiextensions.k8s.io/v1", items: options.crds.map((name) => ({ metadata: { name } })) });
    }
    send(404, { kind: "Status", status: "Failure", reason: "NotFound", code: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A kubeconfig file with one context "fake" pointing at `server` (or none selected). */
export function writeKubeconfig(server: string | undefined, currentContext: string | null = "fake"): string {
  const dir = scratchDir("korthweb-kubeconfig-");
  const path = join(dir, "config");
  const body = server
    ? `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${server}" } }]
users: [{ name: fake, user: { token: fake-token } }]
contexts: [{ name: fake, context: { cluster: fake, user: fake } }]
${currentContext ? `current-context: ${currentContext}` : ""}
`
    : "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";
  writeFileSync(path, body);
  return path;
}
