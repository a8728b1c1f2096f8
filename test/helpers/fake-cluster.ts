// A small stand-in for a Kubernetes API server that answers what helm asks
// when it renders against a cluster (`helm template --dry-run=server`):
// version, discovery for the kinds a chart renders, and GET/LIST of the
// objects we preload (e.g. an existing Secret for `lookup`). Read-only; binds
// 127.0.0.1 only. Every request is recorded so tests can assert what was read.
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
  { apiVersion: "apps/v1", kind: "Deployment" },
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

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const notFound = () => send(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
    const path = (request.url ?? "/").split("?")[0]!;
    requests.push(`${request.method} ${path}`);
    if (request.method !== "GET") return send(405, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "MethodNotAllowed", code: 405 });
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
    const [, , , , namespace, resource, name] = match;
    if (!resource) return send(200, resourceList(apiVersion, served));
    const kind = served.find((item) => plural(item.kind) === resource)?.kind;
    if (!kind) return notFound();
    const candidates = objects.filter(
      (object) => object.apiVersion === apiVersion && object.kind === kind && (!namespace || object.metadata?.namespace === namespace),
    );
    if (name) {
      const found = candidates.find((object) => object.metadata?.name === name);
      return found ? send(200, found) : notFound();
    }
    return send(200, { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: "1" }, items: candidates });
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setObjects: (next) => {
      objects = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
