// The gitops mesh as its policies see it, read from the rendered tree and
// each tenant's Orthanc render: per tenant its gateway, Orthanc and
// PostgreSQL (identity, pod labels, ports), any other pod of its two
// namespaces, and the shared Prometheus. Identities come from what the charts
// create for our values (proving-ground/checks/chart-identities.ts, the rendered Orthanc
// Deployment), never from the policies themselves; mesh-check.ts compares
// what the policies allow among these with intendedFlows().
import { bitnamiPostgresqlIdentity, istioGatewayIdentity, prometheusIdentity } from "../chart-identities.ts";
import type { MeshWorkload } from "../istio-authorization.ts";
import type { KubeObject } from "../../../tasks/lib/manifests.ts";
import { record, text } from "../../../tasks/lib/values.ts";
import { nameOf, namespaceOf, orthancRelease, releasesOfChart, type FluxTree, type Tenant } from "../../../tasks/gitops/tree.ts";

export interface TenantMesh {
  tenant: string;
  gateway: MeshWorkload;
  orthanc: MeshWorkload;
  postgresql: MeshWorkload;
  /** Any other pod of the tenant's namespaces (service account "default", no labels): no policy may admit it. */
  others: MeshWorkload[];
  /** What Prometheus scrapes on Orthanc: the port Orthanc's sidecar sees and the path (the chart's ServiceMonitor). */
  metrics: { port: number; path: string };
}

export interface GitopsMesh {
  tenants: TenantMesh[];
  prometheus?: MeshWorkload;
  /** Why a part could not be modelled (a check then reports it). */
  problems: string[];
}

/** Ports Envoy serves itself, outside the authorization policies: stats (15090), merged metrics (15020), readiness (15021). */
export const envoyPorts = { stats: 15090, mergedMetrics: 15020, readiness: 15021 } as const;

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const numbers = (values: unknown[]) => values.filter((value): value is number => typeof value === "number");

/** Orthanc as the chart renders it: its one Deployment's service account, pod labels and container ports. */
function orthancWorkload(tenant: string, objects: readonly KubeObject[]): MeshWorkload | string {
  const deployments = objects.filter((o) => o.kind === "Deployment");
  if (deployments.length !== 1) return `its Orthanc release renders ${deployments.length} Deployments, not one`;
  const pod = record(record(deployments[0]!.spec).template);
  const podSpec = record(pod.spec);
  return {
    name: `${tenant}/orthanc`,
    namespace: namespaceOf(deployments[0]!),
    serviceAccount: text(podSpec.serviceAccountName) ?? "default",
    labels: record(record(pod.metadata).labels) as Record<string, string>,
    ports: numbers(list(podSpec.containers).flatMap((c) => list(record(c).ports).map((p) => record(p).containerPort))),
  };
}

/** The ServiceMonitor's endpoint, followed through the Service to the container port it reaches. */
function scrapeTarget(objects: readonly KubeObject[]): TenantMesh["metrics"] | string {
  const monitors = objects.filter((o) => o.kind === "ServiceMonitor");
  const endpoint = record(list(record(monitors[0]?.spec).endpoints)[0]);
  if (monitors.length !== 1 || !text(endpoint.port)) return `its Orthanc release renders ${monitors.length} ServiceMonitors with a named port, not one`;
  const servicePort = objects.filter((o) => o.kind === "Service").flatMap((o) => list(record(o.spec).ports).map(record)).find((p) => p.name === endpoint.port);
  const target = servicePort?.targetPort ?? servicePort?.port;
  const containerPorts = objects.filter((o) => o.kind === "Deployment").flatMap((o) => list(record(record(record(o.spec).template).spec).containers)).flatMap((c) => list(record(c).ports).map(record));
  const port = typeof target === "number" ? target : containerPorts.find((p) => p.name === target)?.containerPort;
  if (typeof port !== "number") return `the ServiceMonitor's port ${String(endpoint.port)} leads to no container port`;
  return { port, path: text(endpoint.path) ?? "/metrics" };
}

function tenantMesh(tenant: Tenant, rendered: readonly KubeObject[]): TenantMesh | string {
  const [gatewayRelease, ...moreGateways] = releasesOfChart(tenant.releases, "gateway");
  const [postgresqlRelease, ...morePostgresql] = releasesOfChart(tenant.releases, "postgresql");
  if (!gatewayRelease || moreGateways.length > 0) return "it needs exactly one gateway release";
  if (!postgresqlRelease || morePostgresql.length > 0) return "it needs exactly one PostgreSQL release";
  if (!orthancRelease(tenant)) return "it has no Orthanc release";
  const orthanc = orthancWorkload(tenant.name, rendered);
  if (typeof orthanc === "string") return orthanc;
  const metrics = scrapeTarget(rendered);
  if (typeof metrics === "string") return metrics;
  const gateway = istioGatewayIdentity(gatewayRelease.releaseName, gatewayRelease.values);
  const postgresql = bitnamiPostgresqlIdentity(postgresqlRelease.releaseName, postgresqlRelease.values);
  const postgresqlPort = record(record(postgresqlRelease.values.primary).containerPorts).postgresql;
  return {
    tenant: tenant.name,
    gateway: {
      name: `${tenant.name}/gateway`,
      namespace: gatewayRelease.releaseNamespace,
      ...gateway,
      ports: numbers(list(record(gatewayRelease.values.service).ports).map((p) => record(p).targetPort ?? record(p).port)),
    },
    orthanc,
    postgresql: {
      name: `${tenant.name}/postgresql`,
      namespace: postgresqlRelease.releaseNamespace,
      ...postgresql,
      // bitnami's default containerPorts.postgresql.
      ports: [typeof postgresqlPort === "number" ? postgresqlPort : 5432],
    },
    others: tenant.namespaces.map((namespace) => ({ name: `${namespace}/other`, namespace, serviceAccount: "default", labels: {}, ports: [] })),
    metrics,
  };
}

/** Prometheus from the kube-prometheus-stack release. Its sidecar intercepts nothing (ports []): a caller only. */
function prometheusWorkload(tree: FluxTree): MeshWorkload | string {
  const releases = releasesOfChart(tree.releases, "kube-prometheus-stack");
  if (releases.length !== 1) return `${releases.length} kube-prometheus-stack releases, not one`;
  const release = releases[0]!;
  return { name: "prometheus", namespace: release.releaseNamespace, ...prometheusIdentity(release.releaseName, release.values), ports: [] };
}

export function gitopsMesh(tree: FluxTree, renders: ReadonlyMap<string, readonly KubeObject[]>): GitopsMesh {
  const problems: string[] = [];
  const tenants: TenantMesh[] = [];
  for (const tenant of tree.tenants) {
    const mesh = tenantMesh(tenant, renders.get(tenant.name) ?? []);
    if (typeof mesh === "string") problems.push(`tenant ${tenant.name}: cannot model its mesh: ${mesh}`);
    else tenants.push(mesh);
  }
  const prometheus = prometheusWorkload(tree);
  if (typeof prometheus === "string") problems.push(`cannot model Prometheus: ${prometheus}`);
  return { tenants, ...(typeof prometheus === "string" ? {} : { prometheus }), problems };
}

/** Every workload of the model, each tenant's in order, Prometheus last. */
export const meshWorkloadsOf = (mesh: GitopsMesh): MeshWorkload[] => [
  ...mesh.tenants.flatMap((t) => [t.gateway, t.orthanc, t.postgresql, ...t.others]),
  ...(mesh.prometheus ? [mesh.prometheus] : []),
];

/** What the AuthorizationPolicies must allow, and nothing else: per tenant, its own chain only. */
export function intendedFlows(mesh: GitopsMesh): string[] {
  return mesh.tenants.flatMap(({ gateway, orthanc, postgresql, metrics }) => [
    // The listeners take any client: the gateway is the tenant's public address.
    ...gateway.ports.map((port) => `* -> ${gateway.name}:${port}`),
    ...orthanc.ports.map((port) => `${gateway.name} -> ${orthanc.name}:${port}`),
    ...(mesh.prometheus ? [`${mesh.prometheus.name} -> ${orthanc.name}:${metrics.port} GET ${metrics.path}`] : []),
    ...postgresql.ports.map((port) => `${orthanc.name} -> ${postgresql.name}:${port}`),
  ]);
}

/**
 * What the NetworkPolicies must let through among the same pods, and nothing else: the chain above,
 * Prometheus scraping every proxy's Envoy ports and Orthanc's metrics port, and the gateway's listeners
 * and readiness port open to any client whose own namespace lets it out (the outside world, and
 * Prometheus, whose namespace has no egress policy).
 */
export function intendedNetworkFlows(mesh: GitopsMesh): string[] {
  const prometheus = mesh.prometheus?.name;
  const scrapes = (workload: MeshWorkload, ports: number[]) => (prometheus ? ports.map((port) => `${prometheus} -> ${workload.name}:${port}`) : []);
  const envoy = [envoyPorts.stats, envoyPorts.mergedMetrics];
  return mesh.tenants.flatMap(({ gateway, orthanc, postgresql, metrics }) => [
    ...[...gateway.ports, envoyPorts.readiness].flatMap((port) => [`outside -> ${gateway.name}:${port}`, ...scrapes(gateway, [port])]),
    ...scrapes(gateway, envoy),
    ...orthanc.ports.map((port) => `${gateway.name} -> ${orthanc.name}:${port}`),
    ...scrapes(orthanc, [metrics.port, ...envoy]),
    ...postgresql.ports.map((port) => `${orthanc.name} -> ${postgresql.name}:${port}`),
    ...scrapes(postgresql, envoy),
  ]);
}

/** Objects of a kind from the tree and every tenant's render. */
export const objectsOfKind = (tree: FluxTree, renders: ReadonlyMap<string, readonly KubeObject[]>, kind: string): KubeObject[] =>
  [...tree.objects, ...[...renders.values()].flat()].filter((o) => o.kind === kind);

export const describeRef = (o: KubeObject) => `${String(o.kind)} ${namespaceOf(o) ? `${namespaceOf(o)}/` : ""}${nameOf(o)}`;
