// A small stand-in for a Kubernetes API server that answers what helm and
// kubectl ask: version, discovery for the kinds our charts render, GET/LIST of
// the objects it holds (e.g. an existing Secret for `lookup`), and
// server-side apply (PATCH), which stores the object as sent: no admission,
// no field merging, enough to test "create when missing, keep when present".
// Binds 127.0.0.1 only. Every request is recorded so tests can assert on them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeObject } from "../../tasks/lib/manifests.ts";

export interface ResourceKind {
  apiVersion: string;
  kind: string;
  namespaced?: boolean;
}

export interface FakeCluster {
  url: string;
  /** "GET /api/v1/namespaces/x/secrets/y" lines, in order. */
  requests: string[];
  /** Replace the stored objects (what GET and LIST return). */
  setObjects(objects: readonly KubeObject[]): void;
  /** The stored objects, including those written by server-side apply. */
  objects(): readonly KubeObject[];
  close(): Promise<void>;
}

/** Kinds our charts render; discovery answers for these. */
export const commonKinds: ResourceKind[] = [
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "v1", kind: "Pod" },
  { apiVersion: "v1", kind: "Namespace", namespaced: false },
  { apiVersion: "v1", kind: "PersistentVolumeClaim" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "batch/v1", kind: "CronJob" },
  { apiVersion: "batch/v1", kind: "Job" },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  { apiVersion: "traefik.io/v1alpha1", kind: "IngressRoute" },
  { apiVersion: "traefik.io/v1alpha1", kind: "IngressRouteTCP" },
  { apiVersion: "traefik.io/v1alpha1", kind: "TLSOption" },
  { apiVersion: "traefik.io/v1alpha1", kind: "TLSStore" },
  { apiVersion: "networking.istio.io/v1", kind: "Gateway" },
  { apiVersion: "networking.istio.io/v1", kind: "VirtualService" },
  { apiVersion: "cert-manager.io/v1", kind: "Certificate" },
  { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor" },
];

export const plural = (kind: string): string => {
  const lower = kind.toLowerCase();
  if (lower.endsWith("y")) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith("s")) return `${lower}es`;
  return `${lower}s`;
};

const splitApiVersion = (apiVersion: string) => {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
};

/** OpenAPI v3 discovery: one document per group version. */
function openApiIndex(groups: Map<string, Map<string, ResourceKind[]>>) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, versions] of groups) {
    for (const version of versions.keys()) {
      const key = group ? `apis/${group}/${version}` : `api/${version}`;
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=0` };
    }
  }
  return { paths };
}

/** The OpenAPI v3 document of one group version: PATCH of each resource takes fieldValidation. */
function openApiDocument(kinds: readonly ResourceKind[], groupVersionPath: string) {
  const apiVersion = groupVersionPath.replace(/^apis?\//, "");
  const paths: Record<string, unknown> = {};
  for (const item of kinds.filter((kind) => kind.apiVersion === apiVersion)) {
    const scope = item.namespaced === false ? "" : "/namespaces/{namespace}";
    const { group, version } = splitApiVersion(item.apiVersion);
    paths[`/${groupVersionPath}${scope}/${plural(item.kind)}/{name}`] = {
      patch: {
        "x-kubernetes-group-version-kind": { group, version, kind: item.kind },
        parameters: [{ name: "fieldValidation", in: "query", schema: { type: "string" } }],
      },
    };
  }
  return { openapi: "3.0.0", info: { title: "fake", version: "v1" }, paths, components: { schemas: {} } };
}

export async function startFakeCluster(options: { version?: string; kinds?: readonly ResourceKind[]; objects?: readonly KubeObject[] } = {}): Promise<FakeCluster> {
  const version = options.version ?? "v1.34.1";
  const kinds = options.kinds ?? commonKinds;
  let objects: readonly KubeObject[] = options.objects ?? [];
  const requests: string[] = [];

  const groups = new Map<string, Map<string, ResourceKind[]>>();
  for (const item of kinds) {
    const { group, version: v } = splitApiVersion(item.apiVersion);
    const versions = groups.get(group) ?? new Map<string, ResourceKind[]>();
    versions.set(v, [...(versions.get(v) ?? []), item]);
    groups.set(group, versions);
  }
  const resourceList = (apiVersion: string, items: readonly ResourceKind[]) => ({
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersion,
    resources: items.map((item) => ({
      name: plural(item.kind),
      singularName: item.kind.toLowerCase(),
      namespaced: item.namespaced !== false,
      kind: item.kind,
      verbs: ["get", "list"],
    })),
  });

  /** Server-side apply, simplified: the sent object replaces the stored one (stringData becomes data). */
  const applyPatch = (body: string, apiVersion: string, kind: string, namespace: string | undefined): KubeObject => {
    const sent = JSON.parse(body) as KubeObject;
    const stored: KubeObject = { ...sent, apiVersion, kind, metadata: { ...sent.metadata, ...(namespace ? { namespace } : {}), resourceVersion: "1" } };
    if (sent.stringData && typeof sent.stringData === "object") {
      const encoded = Object.entries(sent.stringData as Record<string, string>).map(([key, value]) => [key, Buffer.from(value).toString("base64")]);
      stored.data = { ...(sent.data as Record<string, string> | undefined), ...Object.fromEntries(encoded) };
      delete stored.stringData;
    }
    const same = (object: KubeObject) =>
      object.apiVersion === apiVersion && object.kind === kind && object.metadata?.name === stored.metadata?.name && object.metadata?.namespace === stored.metadata?.namespace;
    objects = [...objects.filter((object) => !same(object)), stored];
    return stored;
  };

  const handle = (request: IncomingMessage, response: ServerResponse, body: string) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const notFound = () => send(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
    const path = (request.url ?? "/").split("?")[0]!;
    requests.push(`${request.method} ${path}`);
    const apply = request.method === "PATCH" && request.headers["content-type"] === "application/apply-patch+yaml";
    if (request.method !== "GET" && !apply) return send(405, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "MethodNotAllowed", code: 405 });
    // kubectl asks OpenAPI v3 whether PATCH takes fieldValidation; if so it leaves validation to the server.
    if (path === "/openapi/v3") return send(200, openApiIndex(groups));
    if (path.startsWith("/openapi/v3/")) return send(200, openApiDocument(kinds, path.slice("/openapi/v3/".length)));
    if (path === "/version") {
      const [major, minor] = version.replace(/^v/, "").split(".");
      return send(200, { major, minor, gitVersion: version, platform: "linux/amd64" });
    }
    if (path === "/api") return send(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
    if (path === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions") {
      // The CRDs behind the custom kinds, as preflight lists them.
      const crds = kinds.filter((item) => {
        const { group } = splitApiVersion(item.apiVersion);
        return group.includes(".") && !group.endsWith(".k8s.io");
      });
      return send(200, { kind: "CustomResourceDefinitionList", apiVersion: "apiextensions.k8s.io/v1", items: crds.map((item) => ({ metadata: { name: `${plural(item.kind)}.${splitApiVersion(item.apiVersion).group}` } })) });
    }
    if (path === "/apis") {
      const list = [...groups.entries()].filter(([group]) => group !== "").map(([group, versions]) => {
        const all = [...versions.keys()].map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
        return { name: group, versions: all, preferredVersion: all[0] };
      });
      return send(200, { kind: "APIGroupList", apiVersion: "v1", groups: list });
    }
    // /api/v1[/namespaces/NS]/PLURAL[/NAME] or /apis/G/V[/namespaces/NS]/PLURAL[/NAME]
    const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!match) return notFound();
    const apiVersion = match[1] ?? `${match[2]}/${match[3]}`;
    const { group, version: v } = splitApiVersion(apiVersion);
    const served = groups.get(group)?.get(v);
    if (!served) return notFound();
    // "/api/v1/namespaces/NAME" is the Namespace object itself, not a namespace scope.
    const [namespace, resource, name] = match[4] && !match[5] ? [undefined, "namespaces", match[4]] : [match[4], match[5], match[6]];
    if (!resource) return send(200, resourceList(apiVersion, served));
    const kind = served.find((item) => plural(item.kind) === resource)?.kind;
    if (!kind) return notFound();
    const candidates = objects.filter(
      (object) => object.apiVersion === apiVersion && object.kind === kind && (!namespace || object.metadata?.namespace === namespace),
    );
    if (apply && name) return send(200, applyPatch(body, apiVersion, kind, namespace));
    if (name) {
      const found = candidates.find((object) => object.metadata?.name === name);
      return found ? send(200, found) : notFound();
    }
    return send(200, { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: "1" }, items: candidates });
  };

  const server: Server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => handle(request, response, body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setObjects: (next) => {
      objects = next;
    },
    objects: () => objects,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
