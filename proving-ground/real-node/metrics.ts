// What the Orthanc Grafana dashboard and the ServiceMonitor rely on, checked
// against running Orthanc pods on the real node: the orthanc_* names and job
// labels the committed dashboards query, the scrape targets a ServiceMonitor
// stored in the cluster resolves to (Service by label, port by name,
// EndpointSlices, path, basic auth from its Secret) as the Prometheus
// operator resolves them, and the names each target really serves.
// Why our own code: Prometheus and its operator do not build or run here
// (their images come from registries); what they do with a ServiceMonitor's
// port, path and basicAuth is a few lookups, and the text exposition format
// needs only each sample line's metric name.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";
import { record, text } from "../../tasks/lib/values.ts";

/** Grafana's sidecar (kube-prometheus-stack) loads ConfigMaps with this label as dashboards. */
export const dashboardLabel = "grafana_dashboard";

export interface Dashboard {
  /** "manual/08-observability/orthanc-dashboard.yaml ConfigMap monitoring/orthanc-dashboard orthanc.json" */
  source: string;
  /** orthanc_* metric names its queries use. */
  metrics: string[];
  /** Values of job="…" matchers in those queries. */
  jobs: string[];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === "templates" ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** Every string under a query key of a dashboard (panel targets, template variables), however deep. */
function queries(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(queries);
  if (!node || typeof node !== "object") return [];
  return Object.entries(node).flatMap(([key, value]) => (["expr", "query", "definition"].includes(key) && typeof value === "string" ? [value] : queries(value)));
}

const unique = (items: readonly string[]) => [...new Set(items)].sort();

/** The dashboards in one object, when it is a ConfigMap Grafana's sidecar loads. */
export function dashboardsIn(object: KubeObject, file: string): Dashboard[] {
  const labels = record(object.metadata?.labels);
  if (object.kind !== "ConfigMap" || labels[dashboardLabel] === undefined) return [];
  const where = `${file} ConfigMap ${String(object.metadata?.namespace ?? "")}/${String(object.metadata?.name)}`;
  return Object.entries(record(object.data)).map(([key, json]) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(json));
    } catch (error) {
      throw new Error(`${where} ${key}: not JSON (${(error as Error).message})`);
    }
    const exprs = queries(parsed);
    return {
      source: `${where} ${key}`,
      metrics: unique(exprs.flatMap((expr) => expr.match(/\borthanc_[a-z0-9_]+/g) ?? [])),
      jobs: unique(exprs.flatMap((expr) => [...expr.matchAll(/\bjob\s*=\s*"([^"]+)"/g)].map((match) => match[1]!))),
    };
  });
}

/** Every Grafana dashboard committed for the approaches (manual/, gitops/, helm/ outside chart templates). */
export function committedDashboards(folders = ["manual", "gitops", "helm"].map((folder) => fromRoot(folder))): Dashboard[] {
  return folders.flatMap(yamlFiles).flatMap((file) =>
    parseManifests(readFileSync(file, "utf8"), relative(repoRoot, file)).flatMap(({ object }) => dashboardsIn(object, relative(repoRoot, file))),
  );
}

export interface ScrapeTarget {
  /** namespace/pod the endpoint belongs to. */
  pod: string;
  namespace: string;
  /** The job label Prometheus gives its samples: the Service's name unless the monitor sets jobLabel. */
  job: string;
  address: string;
  port: number;
  path: string;
  /** The scheme the monitor declares (https behind an Istio sidecar). */
  scheme: string;
  auth?: { username: string; password: string };
}

/** `kubectl get … -o json`, parsed: the caller's access to the cluster. */
export type GetJson = (args: readonly string[]) => Promise<unknown>;

interface ServicePort {
  name?: string;
  port: number;
}
interface EndpointSlice {
  ports?: { name?: string; port?: number }[];
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string; namespace?: string } }[];
}

const selectorOf = (labels: Record<string, unknown>) => Object.entries(labels).map(([key, value]) => `${key}=${String(value)}`).join(",");

async function secretValue(get: GetJson, namespace: string, ref: unknown): Promise<string> {
  const name = text(record(ref).name);
  const key = text(record(ref).key);
  if (!name || !key) throw new Error(`basicAuth refers to no Secret name and key: ${JSON.stringify(ref)}`);
  const secret = record(await get(["-n", namespace, "get", "secret", name]));
  const encoded = text(record(secret.data)[key]);
  if (encoded === undefined) throw new Error(`Secret ${namespace}/${name} has no key ${key}`);
  return Buffer.from(encoded, "base64").toString("utf8");
}

/** The targets a ServiceMonitor resolves to in the cluster: each ready endpoint of each selected Service, per monitor endpoint. */
export async function serviceMonitorTargets(get: GetJson, monitor: KubeObject): Promise<ScrapeTarget[]> {
  const spec = record(monitor.spec);
  const own = String(monitor.metadata?.namespace ?? "");
  const namespaceSelector = record(spec.namespaceSelector);
  if (namespaceSelector.any === true) throw new Error(`ServiceMonitor ${own}/${String(monitor.metadata?.name)}: namespaceSelector.any is not resolved here`);
  const namespaces = Array.isArray(namespaceSelector.matchNames) ? namespaceSelector.matchNames.map(String) : [own];
  const selector = selectorOf(record(record(spec.selector).matchLabels));
  const jobLabel = text(spec.jobLabel);
  const endpoints = Array.isArray(spec.endpoints) ? spec.endpoints.map(record) : [];
  const targets: ScrapeTarget[] = [];
  for (const namespace of namespaces) {
    const services = (record(await get(["-n", namespace, "get", "services", "-l", selector])).items ?? []) as { metadata: { name: string; labels?: Record<string, string> }; spec: { ports: ServicePort[] } }[];
    for (const service of services) {
      const job = jobLabel ? (service.metadata.labels?.[jobLabel] ?? service.metadata.name) : service.metadata.name;
      const slices = (record(await get(["-n", namespace, "get", "endpointslices", "-l", `kubernetes.io/service-name=${service.metadata.name}`])).items ?? []) as EndpointSlice[];
      for (const endpoint of endpoints) {
        const portName = text(endpoint.port);
        if (!portName || !service.spec.ports.some((port) => port.name === portName)) {
          throw new Error(`ServiceMonitor ${own}/${String(monitor.metadata?.name)}: Service ${namespace}/${service.metadata.name} has no port named ${portName ?? "(none)"}`);
        }
        const basicAuth = record(endpoint.basicAuth);
        const auth = endpoint.basicAuth ? { username: await secretValue(get, own, basicAuth.username), password: await secretValue(get, own, basicAuth.password) } : undefined;
        for (const slice of slices) {
          const port = slice.ports?.find((item) => item.name === portName)?.port;
          if (port === undefined) continue;
          for (const address of slice.endpoints ?? []) {
            if (address.conditions?.ready === false) continue;
            for (const ip of address.addresses) {
              targets.push({
                pod: `${address.targetRef?.namespace ?? namespace}/${address.targetRef?.name ?? ip}`,
                namespace,
                job,
                address: ip,
                port,
                path: text(endpoint.path) ?? "/metrics",
                scheme: text(endpoint.scheme) ?? "http",
                ...(auth ? { auth } : {}),
              });
            }
          }
        }
      }
    }
  }
  return targets;
}

const sampleLines = (exposition: string) =>
  exposition
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

/** Metric names of the sample lines of a Prometheus text exposition (comments and HELP/TYPE lines skipped). */
export function exposedNames(exposition: string): string[] {
  return unique(sampleLines(exposition).map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? "").filter(Boolean));
}

/** The value of each unlabelled sample (Orthanc's are all unlabelled): name → value; the timestamp is ignored. */
export function exposedValues(exposition: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of sampleLines(exposition)) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\S+)/.exec(line);
    if (match) values[match[1]!] = Number(match[2]);
  }
  return values;
}

export interface Scrape {
  status: number;
  contentType: string;
  names: string[];
  values: Record<string, number>;
}

/**
 * Scrapes one target over plain HTTP on its port: on the real node no Istio sidecar terminates the
 * monitor's https (mesh mutual TLS) in front of Orthanc, which itself serves HTTP on that port.
 */
export async function scrape(target: ScrapeTarget, withAuth = true): Promise<Scrape> {
  const headers: Record<string, string> = {};
  if (withAuth && target.auth) headers.authorization = `Basic ${Buffer.from(`${target.auth.username}:${target.auth.password}`).toString("base64")}`;
  const response = await fetch(`http://${target.address}:${target.port}${target.path}`, { headers, signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", names: response.ok ? exposedNames(body) : [], values: response.ok ? exposedValues(body) : {} };
}
