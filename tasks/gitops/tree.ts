// The Flux tree as Flux would apply it, read from the checkout: start at the
// cluster folder (what the entry Kustomization applies), build it with
// `kubectl kustomize` (plus the Kustomization's own spec.patches), fill in its
// postBuild variables as kustomize-controller does (post-build.ts), and
// follow every Flux Kustomization it contains to the folder it points at. The
// one reader of the tree: the install tasks read tenants, releases and the
// wait order from here; the checks, the validator and the audit in
// proving-ground/ read everything.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize, relative } from "node:path";
import { stringify } from "yaml";
import { run } from "../lib/exec.ts";
import { parseManifests, type KubeObject } from "../lib/manifests.ts";
import { requireToolPath } from "../lib/tools.ts";
import { record, text } from "../lib/values.ts";
import { postBuildVariables, substituteObjects } from "./post-build.ts";

/** What `make gitops-install` creates outside Git: the source and the entry Kustomization. */
export const bootstrap = { namespace: "flux-system", gitRepository: "korthweb", entryKustomization: "korthweb" } as const;

/** The cluster folder used when --path is not given. */
export const defaultClusterPath = "./gitops/clusters/production";

/** Label on a tenant's Namespaces, naming the tenant. */
export const tenantLabel = "korthweb/tenant";

const kindOf = (object: KubeObject) => `${String(object.apiVersion)} ${String(object.kind)}`;
export const isFluxKustomization = (o: KubeObject) => kindOf(o) === "kustomize.toolkit.fluxcd.io/v1 Kustomization";
export const isHelmRelease = (o: KubeObject) => kindOf(o) === "helm.toolkit.fluxcd.io/v2 HelmRelease";

export interface Ref {
  name: string;
  namespace: string;
}

export const refId = (ref: Ref) => `${ref.namespace}/${ref.name}`;
export const nameOf = (o: KubeObject) => String(o.metadata?.name ?? "");
export const namespaceOf = (o: KubeObject) => (typeof o.metadata?.namespace === "string" ? o.metadata.namespace : "");

/** A Flux Kustomization: where it sits, what it applies, what it waits for. */
export interface FluxUnit {
  ref: Ref;
  /** spec.path as written, e.g. "./gitops/infrastructure/controllers". */
  path: string;
  dependsOn: Ref[];
  sourceRef: { kind: string } & Ref;
  serviceAccountName?: string;
  /** The Kustomization object itself (undefined for the entry, which the bootstrap creates). */
  object?: KubeObject;
  /** What `kubectl kustomize <path>` gives, or the error when it fails. */
  objects: KubeObject[];
  renderError?: string;
}

export interface HelmReleaseInfo {
  ref: Ref;
  /** The Flux Kustomization that applies it. */
  unit: Ref;
  object: KubeObject;
  releaseName: string;
  /** Where the release's objects go (targetNamespace, else the HelmRelease's namespace). */
  releaseNamespace: string;
  dependsOn: Ref[];
  serviceAccountName?: string;
  values: Record<string, unknown>;
  /**
   * "GitRepository flux-system/korthweb ./helm/orthanc", "HelmRepository flux-system/kiali kiali-operator",
   * "OCIRepository flux-system/postgresql postgresql" (for an OCIRepository the chart is the last segment of
   * its URL, and the version is the source's tag, not set here).
   */
  chart: { sourceKind: string; source: Ref; chart?: string; version?: string };
}

export interface Tenant {
  name: string;
  /** Namespaces labelled korthweb/tenant=<name>. */
  namespaces: string[];
  /** The tenant's Flux Kustomization (it lives in one of the tenant's namespaces). */
  unit?: FluxUnit;
  /** The platform's Kustomization that creates the tenant's namespaces (tenants/base/tenant.yaml). */
  onboarding?: FluxUnit;
  /** Every object of the tenant: its Namespaces and all objects in them. */
  objects: KubeObject[];
  releases: HelmReleaseInfo[];
}

export interface FluxTree {
  root: string;
  clusterPath: string;
  /** Entry first, then in the order they were found. */
  units: FluxUnit[];
  releases: HelmReleaseInfo[];
  tenants: Tenant[];
  /** Every object any unit applies. */
  objects: KubeObject[];
  /** GitRepositories of this repository: the bootstrap's, then the platform's copies in tenant namespaces. */
  repositories: Ref[];
}

export { record, text } from "../lib/values.ts";

function refsOf(list: unknown, defaultNamespace: string): Ref[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => ({ name: String(record(item).name ?? ""), namespace: text(record(item).namespace) ?? defaultNamespace }));
}

/** Cluster folders Flux can start from: gitops/clusters/<name> holding a kustomization.yaml, as ./gitops/clusters/<name>. */
export function clusterFolders(root: string): string[] {
  const dir = join(root, "gitops", "clusters");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "kustomization.yaml")))
    .map((entry) => `./gitops/clusters/${entry.name}`)
    .sort();
}

/** The folder a Flux path points at, inside the checkout ("./gitops/x" → <root>/gitops/x). */
export function folderOf(root: string, path: string): string {
  return join(root, normalize(path.replace(/^\.\//, "")));
}

/**
 * `kubectl kustomize` of a Flux path, with the Kustomization's spec.patches applied on top as
 * kustomize-controller does (through a scratch kustomization that includes the folder: kustomize
 * refuses absolute paths, so it is reached relatively).
 */
async function kustomize(root: string, path: string, patches: unknown[] = []): Promise<{ objects: KubeObject[]; error?: string }> {
  const dir = folderOf(root, path);
  if (!existsSync(dir)) return { objects: [], error: `folder ${path} does not exist` };
  const scratch = patches.length > 0 ? mkdtempSync(join(tmpdir(), "korthweb-flux-patches-")) : undefined;
  try {
    if (scratch) writeFileSync(join(scratch, "kustomization.yaml"), stringify({ resources: [relative(scratch, dir)], patches }));
    const result = await run(requireToolPath("kubectl"), ["kustomize", scratch ?? dir], { silent: true, allowFailure: true });
    if (result.exitCode !== 0) return { objects: [], error: result.stderr.trim().split("\n").slice(-3).join(" ") };
    return { objects: parseManifests(result.stdout, `${path} (kustomize)`).map((item) => item.object) };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

function unitFrom(object: KubeObject): Omit<FluxUnit, "objects"> {
  const spec = record(object.spec);
  const namespace = namespaceOf(object);
  const source = record(spec.sourceRef);
  return {
    ref: { name: nameOf(object), namespace },
    path: text(spec.path) ?? "./",
    dependsOn: refsOf(spec.dependsOn, namespace),
    sourceRef: { kind: String(source.kind ?? ""), name: String(source.name ?? ""), namespace: text(source.namespace) ?? namespace },
    serviceAccountName: text(spec.serviceAccountName),
    object,
  };
}

function releaseFrom(object: KubeObject, unit: Ref): HelmReleaseInfo {
  const spec = record(object.spec);
  const namespace = namespaceOf(object);
  const chartSpec = record(record(spec.chart).spec);
  const chartRef = record(spec.chartRef);
  const source = Object.keys(chartRef).length > 0 ? chartRef : record(chartSpec.sourceRef);
  return {
    ref: { name: nameOf(object), namespace },
    unit,
    object,
    releaseName: text(spec.releaseName) ?? nameOf(object),
    releaseNamespace: text(spec.targetNamespace) ?? namespace,
    dependsOn: refsOf(spec.dependsOn, namespace),
    serviceAccountName: text(spec.serviceAccountName),
    values: record(spec.values),
    chart: {
      sourceKind: String(source.kind ?? ""),
      source: { name: String(source.name ?? ""), namespace: text(source.namespace) ?? namespace },
      chart: text(chartSpec.chart),
      version: text(chartSpec.version),
    },
  };
}

/** Render the tree that `clusterPath` (relative to `root`) starts. Kustomizations that point elsewhere than our GitRepository are listed but not followed. */
export async function renderFluxTree(root: string, clusterPath = defaultClusterPath): Promise<FluxTree> {
  const entry: Omit<FluxUnit, "objects"> = {
    ref: { name: bootstrap.entryKustomization, namespace: bootstrap.namespace },
    path: clusterPath,
    dependsOn: [],
    sourceRef: { kind: "GitRepository", name: bootstrap.gitRepository, namespace: bootstrap.namespace },
  };
  const units: FluxUnit[] = [];
  const repositories: Ref[] = [entry.sourceRef];
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(refId(next.ref))) {
      // Two folders defining one Kustomization differently (a copied tenant left with the other's name): kept, unrendered, for the graph check to report.
      const first = units.find((unit) => refId(unit.ref) === refId(next.ref));
      if (first?.object && next.object && JSON.stringify(first.object) !== JSON.stringify(next.object)) units.push({ ...next, objects: [] });
      continue;
    }
    seen.add(refId(next.ref));
    const fromOurSource = next.sourceRef.kind === "GitRepository" && repositories.some((ref) => refId(ref) === refId(next.sourceRef));
    const patches = record(next.object?.spec).patches;
    const built = fromOurSource ? await kustomize(root, next.path, Array.isArray(patches) ? patches : []) : { objects: [], error: `source ${next.sourceRef.kind} ${refId(next.sourceRef)} is not this repository` };
    const rendered = built.error || !next.object ? built : postBuild(next.object, built.objects, units.flatMap((unit) => unit.objects));
    const unit: FluxUnit = { ...next, objects: rendered.objects, ...(rendered.error ? { renderError: rendered.error } : {}) };
    units.push(unit);
    if (unit.ref.namespace === bootstrap.namespace) repositories.push(...platformCopies(rendered.objects));
    for (const object of rendered.objects.filter(isFluxKustomization)) queue.push(unitFrom(object));
  }
  const objects = units.flatMap((unit) => unit.objects);
  const releases = withOciChartNames(
    units.flatMap((unit) => unit.objects.filter(isHelmRelease).map((object) => releaseFrom(object, unit.ref))),
    objects,
  );
  return { root, clusterPath, units, releases, objects, repositories, tenants: tenantsOf(units, releases, objects) };
}

/** A unit's kustomize output with its postBuild variables filled in; substituteFrom reads ConfigMaps the tree applies in its namespace. */
function postBuild(kustomization: KubeObject, objects: KubeObject[], applied: readonly KubeObject[]): { objects: KubeObject[]; error?: string } {
  const lookup = (kind: string, name: string) => {
    const found = applied.find((o) => o.apiVersion === "v1" && o.kind === kind && kind === "ConfigMap" && nameOf(o) === name && namespaceOf(o) === namespaceOf(kustomization));
    return found ? Object.fromEntries(Object.entries(record(found.data)).map(([key, value]) => [key, String(value)])) : undefined;
  };
  try {
    const variables = postBuildVariables(kustomization, lookup);
    return { objects: variables ? substituteObjects(objects, variables) : objects };
  } catch (error) {
    return { objects: [], error: `postBuild: ${(error as Error).message}` };
  }
}

/**
 * GitRepositories named like the bootstrap's that the platform (a unit in flux-system) creates for
 * tenants: copies of this repository in their namespaces, which the bootstrap points at the fork.
 */
const platformCopies = (objects: readonly KubeObject[]): Ref[] =>
  objects
    .filter((o) => o.apiVersion === "source.toolkit.fluxcd.io/v1" && o.kind === "GitRepository" && nameOf(o) === bootstrap.gitRepository)
    .map((o) => ({ name: nameOf(o), namespace: namespaceOf(o) }));

/** Names OCI charts after their OCIRepository's URL (oci://…/charts/gateway → gateway), so releases are found by chart whatever the source kind. */
function withOciChartNames(releases: HelmReleaseInfo[], objects: readonly KubeObject[]): HelmReleaseInfo[] {
  const urls = new Map(
    objects.filter((o) => o.apiVersion === "source.toolkit.fluxcd.io/v1" && o.kind === "OCIRepository").map((o) => [`${namespaceOf(o)}/${nameOf(o)}`, text(record(o.spec).url)]),
  );
  return releases.map((release) => {
    const url = release.chart.sourceKind === "OCIRepository" ? urls.get(refId(release.chart.source)) : undefined;
    return url && !release.chart.chart ? { ...release, chart: { ...release.chart, chart: url.split("/").pop() } } : release;
  });
}

function tenantsOf(units: FluxUnit[], releases: HelmReleaseInfo[], objects: KubeObject[]): Tenant[] {
  const byName = new Map<string, string[]>();
  for (const object of objects) {
    if (object.apiVersion !== "v1" || object.kind !== "Namespace") continue;
    const tenant = text(record(object.metadata?.labels)[tenantLabel]);
    if (tenant) byName.set(tenant, [...(byName.get(tenant) ?? []), nameOf(object)]);
  }
  return [...byName.entries()].map(([name, namespaces]) => {
    const inTenant = (o: KubeObject) => namespaces.includes(namespaceOf(o)) || (o.kind === "Namespace" && namespaces.includes(nameOf(o)));
    return {
      name,
      namespaces,
      unit: units.find((unit) => namespaces.includes(unit.ref.namespace)),
      onboarding: units.find((unit) => !namespaces.includes(unit.ref.namespace) && unit.objects.some((o) => o.kind === "Namespace" && namespaces.includes(nameOf(o)))),
      objects: objects.filter(inTenant),
      releases: releases.filter((release) => namespaces.includes(release.ref.namespace)),
    };
  });
}

const cache = new Map<string, Promise<FluxTree>>();

/** renderFluxTree, once per process for the same checkout and path (tasks in one sequence share it). */
export function loadFluxTree(root: string, clusterPath = defaultClusterPath): Promise<FluxTree> {
  const key = `${root}\0${clusterPath}`;
  let tree = cache.get(key);
  if (!tree) {
    tree = renderFluxTree(root, clusterPath);
    cache.set(key, tree);
  }
  return tree;
}

/** Flux Kustomizations in an order where each comes after what it depends on (cycles: left in place; checks report them). */
export function dependencyOrder<T extends { ref: Ref; dependsOn: Ref[] }>(items: readonly T[]): T[] {
  const byId = new Map(items.map((item) => [refId(item.ref), item]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: T[] = [];
  const visit = (item: T) => {
    const id = refId(item.ref);
    if (done.has(id) || visiting.has(id)) return;
    visiting.add(id);
    for (const dependency of item.dependsOn) {
      const target = byId.get(refId(dependency));
      if (target) visit(target);
    }
    visiting.delete(id);
    done.add(id);
    out.push(item);
  };
  items.forEach(visit);
  return out;
}

/** What a tenant's users reach: hostnames and where the gateway, certificate and login live. */
export interface TenantEndpoints {
  tenant: string;
  web: string;
  dicom: string;
  /** Orthanc's namespace and release. */
  namespace: string;
  release: string;
  /** The chart's ingress.provider: istio (the tenant's gateway), or none (no ingress: smoke goes through kubectl port-forward). */
  ingress: string;
  gateway: { namespace: string; service: string };
  /** Secret with tls.crt, tls.key and ca.crt, in the gateway's namespace. */
  tlsSecret: Ref;
  credentialsSecret: Ref;
}

/** Whether a release's chart comes from this repository: the bootstrap's GitRepository or a tenant's copy of it. */
export const chartFromThisRepository = (tree: Pick<FluxTree, "repositories">, release: HelmReleaseInfo) =>
  release.chart.sourceKind === "GitRepository" && tree.repositories.some((ref) => refId(ref) === refId(release.chart.source));

/** Releases of an upstream chart by its name ("gateway", "postgresql", "kube-prometheus-stack"). */
export const releasesOfChart = (releases: readonly HelmReleaseInfo[], chart: string) => releases.filter((release) => release.chart.chart === chart);

/** The tenant's Orthanc release: the HelmRelease of ./helm/orthanc. */
export const orthancRelease = (tenant: Tenant) => tenant.releases.find((release) => release.chart.chart === "./helm/orthanc");

/** Where the Orthanc chart's values put things (its defaults mirrored: domain, <release>-tls, orthanc-admin). */
export function tenantEndpoints(tenant: Tenant): TenantEndpoints | undefined {
  const release = orthancRelease(tenant);
  if (!release) return undefined;
  const values = release.values;
  const domain = text(values.domain) ?? "korthweb.test";
  const hostnames = record(values.hostnames);
  const istio = record(record(values.ingress).istio);
  const gatewayNamespace = text(istio.gatewayNamespace) ?? "istio-ingress";
  return {
    tenant: tenant.name,
    web: text(hostnames.web) || `web.${domain}`,
    dicom: text(hostnames.dicom) || `dicom.${domain}`,
    namespace: release.releaseNamespace,
    release: release.releaseName,
    ingress: text(record(values.ingress).provider) ?? "traefik",
    gateway: { namespace: gatewayNamespace, service: text(istio.gatewayService) ?? "istio-ingress" },
    tlsSecret: { namespace: gatewayNamespace, name: text(record(values.tls).secretName) || `${release.releaseName}-tls` },
    credentialsSecret: { namespace: release.releaseNamespace, name: text(record(values.auth).existingSecret) ?? "orthanc-admin" },
  };
}
