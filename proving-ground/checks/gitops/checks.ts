// Checks on the rendered Flux tree (tree.ts): every folder builds, the
// dependency graph is sound, tenants are locked down to their namespaces and
// isolated from each other, and every chart source is at its pinned version.
// Each check returns problems (empty = pass); the tests run them on the real
// tree, on a copy with a third tenant, and on broken copies.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { istioGatewayIdentity } from "../chart-identities.ts";
import type { KubeObject } from "../../../tasks/lib/manifests.ts";
import { pins } from "../../../tasks/lib/settings.ts";
import { onboardingLabel } from "../../../tasks/gitops/flux.ts";
import {
  bootstrap,
  nameOf,
  namespaceOf,
  orthancRelease,
  record,
  refId,
  releasesOfChart,
  tenantEndpoints,
  text,
  type FluxTree,
  type HelmReleaseInfo,
  type Ref,
  type Tenant,
} from "../../../tasks/gitops/tree.ts";

export type CheckName = "render" | "graph" | "lockdown" | "isolation" | "pins" | "mesh";

export interface Problem {
  check: CheckName;
  /** What the problem is about: "Kustomization bhc/tenant", "tenant mhr", a file. */
  subject: string;
  message: string;
}

export const formatProblem = (p: Problem) => `[${p.check}] ${p.subject}: ${p.message}`;

const describe = (o: KubeObject) => `${String(o.kind)} ${namespaceOf(o) ? `${namespaceOf(o)}/` : ""}${nameOf(o)}`;

export function checkRenders(tree: FluxTree): Problem[] {
  return tree.units
    .filter((unit) => unit.renderError)
    .map((unit) => ({ check: "render", subject: `Kustomization ${refId(unit.ref)} (${unit.path})`, message: unit.renderError! }));
}

/** Cycles among items that depend on each other by ref; each cycle reported once, as a path. */
function findCycles(items: readonly { ref: Ref; dependsOn: Ref[] }[]): string[][] {
  const byId = new Map(items.map((item) => [refId(item.ref), item]));
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[][] = [];
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") {
      cycles.push([...path.slice(path.indexOf(id)), id]);
      return;
    }
    state.set(id, "visiting");
    for (const dependency of byId.get(id)?.dependsOn ?? []) if (byId.has(refId(dependency))) visit(refId(dependency), [...path, id]);
    state.set(id, "done");
  };
  for (const id of byId.keys()) visit(id, []);
  return cycles;
}

/** Everything `id` waits for, directly or not. */
function dependencyClosure(items: readonly { ref: Ref; dependsOn: Ref[] }[], id: string): Set<string> {
  const byId = new Map(items.map((item) => [refId(item.ref), item]));
  const out = new Set<string>();
  const stack = [...(byId.get(id)?.dependsOn ?? []).map(refId)];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (out.has(next)) continue;
    out.add(next);
    stack.push(...(byId.get(next)?.dependsOn ?? []).map(refId));
  }
  return out;
}

/** Infrastructure: Kustomizations in the bootstrap namespace other than the entry and the tenants' onboarding. */
export const infrastructureUnits = (tree: FluxTree) =>
  tree.units.filter(
    (unit) => unit.ref.namespace === bootstrap.namespace && unit.ref.name !== bootstrap.entryKustomization && !tree.tenants.some((tenant) => tenant.onboarding === unit),
  );

export function checkGraph(tree: FluxTree): Problem[] {
  const problems: Problem[] = [];
  const add = (subject: string, message: string) => problems.push({ check: "graph", subject, message });
  const unitIds = new Set<string>();
  for (const unit of tree.units) {
    const subject = `Kustomization ${refId(unit.ref)}`;
    if (unitIds.has(refId(unit.ref))) add(subject, "defined twice");
    unitIds.add(refId(unit.ref));
    if (unit.sourceRef.kind !== "GitRepository" || !tree.repositories.some((ref) => refId(ref) === refId(unit.sourceRef))) {
      add(subject, `sourceRef ${unit.sourceRef.kind} ${refId(unit.sourceRef)}: not this repository (the bootstrap's GitRepository ${bootstrap.namespace}/${bootstrap.gitRepository} or a copy the platform makes for a tenant)`);
    }
  }
  for (const unit of tree.units) {
    for (const dependency of unit.dependsOn) {
      if (!unitIds.has(refId(dependency))) add(`Kustomization ${refId(unit.ref)}`, `dependsOn ${refId(dependency)}, which no folder of this tree defines`);
    }
  }
  for (const cycle of findCycles(tree.units)) add(`Kustomization ${cycle[0]}`, `dependency cycle: ${cycle.join(" → ")}`);

  const sources = new Set(
    tree.objects.filter((o) => o.apiVersion === "source.toolkit.fluxcd.io/v1").map((o) => `${String(o.kind)} ${namespaceOf(o)}/${nameOf(o)}`),
  );
  sources.add(`GitRepository ${bootstrap.namespace}/${bootstrap.gitRepository}`);
  const releaseIds = new Set(tree.releases.map((release) => refId(release.ref)));
  for (const release of tree.releases) {
    const subject = `HelmRelease ${refId(release.ref)}`;
    const source = `${release.chart.sourceKind} ${refId(release.chart.source)}`;
    if (!sources.has(source)) add(subject, `chart source ${source} is not defined in the tree`);
    for (const dependency of release.dependsOn) {
      if (!releaseIds.has(refId(dependency))) add(subject, `dependsOn HelmRelease ${refId(dependency)}, which does not exist`);
    }
  }
  for (const cycle of findCycles(tree.releases)) add(`HelmRelease ${cycle[0]}`, `dependency cycle: ${cycle.join(" → ")}`);

  const infrastructure = infrastructureUnits(tree).map((unit) => refId(unit.ref));
  for (const tenant of tree.tenants) {
    if (!tenant.unit) {
      add(`tenant ${tenant.name}`, `no Flux Kustomization in its namespaces ${tenant.namespaces.join(", ")}`);
      continue;
    }
    const onboarding = tenant.onboarding?.object;
    if (onboarding && record(onboarding.metadata?.labels)[onboardingLabel.key] !== onboardingLabel.value) {
      add(`Kustomization ${refId(tenant.onboarding!.ref)}`, `onboards tenant ${tenant.name} without the label ${onboardingLabel.key}: ${onboardingLabel.value}, so make gitops-install cannot point the tenant's copy of the repository at your fork (keep tenants/base/tenant.yaml's labels)`);
    }
    const closure = dependencyClosure(tree.units, refId(tenant.unit.ref));
    const missing = infrastructure.filter((id) => !closure.has(id));
    if (missing.length > 0) add(`Kustomization ${refId(tenant.unit.ref)}`, `tenant ${tenant.name} does not depend on infrastructure ${missing.join(", ")}`);
  }
  return problems;
}

/** Tenants run as their own service account, with rights only in their namespaces (Flux multi-tenancy lockdown). */
export function checkLockdown(tree: FluxTree): Problem[] {
  const problems: Problem[] = [];
  for (const tenant of tree.tenants) {
    const add = (message: string) => problems.push({ check: "lockdown", subject: `tenant ${tenant.name}`, message });
    const unit = tenant.unit;
    if (!unit) continue; // reported by checkGraph
    const account = unit.serviceAccountName;
    if (!account) {
      add(`Kustomization ${refId(unit.ref)} has no serviceAccountName: it would apply with the controller's cluster-wide rights`);
      continue;
    }
    const platformObjects = tree.units.filter((other) => other !== unit).flatMap((other) => other.objects);
    if (!platformObjects.some((o) => o.kind === "ServiceAccount" && nameOf(o) === account && namespaceOf(o) === unit.ref.namespace)) {
      add(`ServiceAccount ${unit.ref.namespace}/${account} is not created by the platform`);
    }
    const bindsAccount = (o: KubeObject) =>
      (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
      Array.isArray(o.subjects) &&
      o.subjects.some((s) => record(s).kind === "ServiceAccount" && record(s).name === account && record(s).namespace === unit.ref.namespace);
    for (const binding of tree.objects.filter(bindsAccount)) {
      if (binding.kind === "ClusterRoleBinding") add(`${describe(binding)} gives ${account} rights in every namespace`);
      else if (!tenant.namespaces.includes(namespaceOf(binding))) add(`${describe(binding)} gives ${account} rights outside the tenant's namespaces`);
    }
    for (const namespace of tenant.namespaces) {
      if (!platformObjects.some((o) => bindsAccount(o) && namespaceOf(o) === namespace)) add(`no RoleBinding gives ${account} rights in its namespace ${namespace}`);
    }
    for (const object of unit.objects) {
      if (!tenant.namespaces.includes(namespaceOf(object))) add(`${describe(object)} is outside the tenant's namespaces (its account may not create it)`);
      if (bindsAccount(object) || (object.kind === "ServiceAccount" && nameOf(object) === account)) add(`${describe(object)}: a tenant must not manage its own account or bindings`);
    }
    for (const release of tenant.releases) {
      if (release.serviceAccountName !== account) add(`HelmRelease ${refId(release.ref)} runs as ${release.serviceAccountName ?? "helm-controller (cluster-wide)"}, not ${account}`);
      if (!tenant.namespaces.includes(release.releaseNamespace)) add(`HelmRelease ${refId(release.ref)} installs into ${release.releaseNamespace}, outside the tenant`);
    }
  }
  return problems;
}

/** Every key and string value in an object, with where it is. */
function stringsOf(value: unknown, path = ""): { path: string; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsOf(item, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => [{ path: `${path}.${key}`, value: key }, ...stringsOf(item, `${path}.${key}`)]);
  }
  return [];
}

/** DNS-ish words of a string: "cluster.local/ns/mhr/sa/orthanc" → cluster, local, ns, mhr, sa, orthanc. */
const words = (value: string) => value.toLowerCase().split(/[^a-z0-9-]+/).filter(Boolean);

export interface TenantRender {
  /** Objects the tenant's Orthanc release renders (helm template + post-renderers). */
  objects: KubeObject[];
  error?: string;
}

/** The tenant's gateway release: Istio's gateway chart. */
const gatewayRelease = (tenant: Tenant) => releasesOfChart(tenant.releases, "gateway");
/** The label the gateway chart puts on its pods (istio=<release name without "istio-">) unless overridden. */
const gatewayLabel = (release: HelmReleaseInfo) => istioGatewayIdentity(release.releaseName, release.values).labels.istio;

/**
 * Cluster folders of the proving ground's tiers in which the upstream charts are replaced by stand-ins
 * (gitops/clusters/real-node: docs/cluster.md). Their tenants have no Istio gateway and the tree holds
 * no upstream chart sources, so the checks of those parts (own gateway, every pinned chart source
 * present) do not apply there; every other check does, and a tenant there must have no ingress at all.
 */
export const standInClusterPaths: readonly string[] = ["./gitops/clusters/real-node"];
export const replacesUpstream = (tree: Pick<FluxTree, "clusterPath">) => standInClusterPaths.includes(tree.clusterPath.replace(/\/$/, ""));

export function checkIsolation(tree: FluxTree, renders: ReadonlyMap<string, TenantRender> = new Map()): Problem[] {
  const problems: Problem[] = [];
  for (const tenant of tree.tenants) {
    const add = (message: string) => problems.push({ check: "isolation", subject: `tenant ${tenant.name}`, message });
    const others = tree.tenants.filter((other) => other !== tenant);
    const forbidden = new Map<string, string>();
    for (const other of others) for (const ns of other.namespaces) forbidden.set(ns, `tenant ${other.name}'s namespace`);
    const otherHosts = others.flatMap((other) => {
      const endpoints = tenantEndpoints(other);
      return endpoints ? [endpoints.web, endpoints.dicom].map((host) => ({ host, owner: other.name })) : [];
    });
    const rendered = renders.get(tenant.name)?.objects ?? [];
    for (const object of [...tenant.objects, ...rendered]) {
      const namespace = namespaceOf(object);
      if (namespace && !tenant.namespaces.includes(namespace)) add(`${describe(object)} is outside the tenant's namespaces`);
      for (const { path, value } of stringsOf(object)) {
        const hit = words(value).find((word) => forbidden.has(word));
        if (hit) add(`${describe(object)} ${path} = "${value}" names ${forbidden.get(hit)} (${hit})`);
        const host = otherHosts.find((item) => value.includes(item.host));
        if (host) add(`${describe(object)} ${path} names tenant ${host.owner}'s hostname ${host.host}`);
      }
    }
    if (!replacesUpstream(tree)) problems.push(...checkOwnIngress(tenant, renders.get(tenant.name)));
    else {
      const orthanc = orthancRelease(tenant);
      const provider = text(record(record(orthanc?.values).ingress).provider);
      if (!orthanc) add("has no Orthanc release (chart ./helm/orthanc)");
      else if (provider !== "none") add(`Orthanc ${refId(orthanc.ref)} ingress.provider is ${provider ?? "the chart's default"}: with the upstream gateway replaced (${tree.clusterPath}), it must be none`);
      if (gatewayRelease(tenant).length > 0) add(`has a gateway release in ${tree.clusterPath}, where Istio cannot run`);
    }
  }
  problems.push(...checkDistinct(tree));
  return problems;
}

/** The tenant has exactly one gateway of its own, Orthanc attaches to it, and the certificate covers the tenant's hostnames. */
function checkOwnIngress(tenant: Tenant, render: TenantRender | undefined): Problem[] {
  const problems: Problem[] = [];
  const add = (message: string) => problems.push({ check: "isolation", subject: `tenant ${tenant.name}`, message });
  const gateways = gatewayRelease(tenant);
  const orthanc = orthancRelease(tenant);
  const endpoints = tenantEndpoints(tenant);
  if (gateways.length !== 1) add(`has ${gateways.length} gateway releases (Istio chart "gateway"); needs exactly one of its own`);
  if (!orthanc || !endpoints) add("has no Orthanc release (chart ./helm/orthanc)");
  const gateway = gateways[0];
  if (!gateway || !orthanc || !endpoints) return problems;
  if (text(record(gateway.values.service).type) !== "LoadBalancer") add(`gateway ${refId(gateway.ref)} service.type is not LoadBalancer: no address of its own`);
  const istio = record(record(orthanc.values.ingress).istio);
  if (text(record(orthanc.values.ingress).provider) !== "istio") add(`Orthanc ${refId(orthanc.ref)} ingress.provider is not istio`);
  if (endpoints.gateway.namespace !== gateway.releaseNamespace) add(`Orthanc's gatewayNamespace ${endpoints.gateway.namespace} is not its gateway's namespace ${gateway.releaseNamespace}`);
  if (endpoints.gateway.service !== gateway.releaseName) add(`Orthanc's gatewayService ${endpoints.gateway.service} is not its gateway's Service ${gateway.releaseName}`);
  const selector = record(istio.gatewaySelector);
  if (Object.keys(selector).length !== 1 || selector.istio !== gatewayLabel(gateway)) add(`Orthanc's gatewaySelector ${JSON.stringify(selector)} does not select its gateway's pods (istio: ${gatewayLabel(gateway)})`);
  if (!render) return problems;
  if (render.error) {
    add(`Orthanc release does not render: ${render.error}`);
    return problems;
  }
  // The server certificate names hosts; the modality CA and the smoke client's certificate do not.
  const certificates = render.objects.filter((o) => o.kind === "Certificate" && Array.isArray(record(o.spec).dnsNames));
  if (certificates.length !== 1) add(`renders ${certificates.length} server Certificates; needs one of its own`);
  problems.push(...checkOwnModalityCa(tenant, render, gateway.releaseNamespace));
  for (const certificate of certificates) {
    const names = (Array.isArray(record(certificate.spec).dnsNames) ? (record(certificate.spec).dnsNames as unknown[]) : []).map(String).sort();
    const wanted = [endpoints.web, endpoints.dicom].sort();
    if (JSON.stringify(names) !== JSON.stringify(wanted)) add(`${describe(certificate)} is for ${names.join(", ")}, not ${wanted.join(", ")}`);
    if (namespaceOf(certificate) !== gateway.releaseNamespace) add(`${describe(certificate)} is not in its gateway's namespace ${gateway.releaseNamespace}`);
  }
  for (const gatewayObject of render.objects.filter((o) => o.kind === "Gateway")) {
    const podSelector = record(record(gatewayObject.spec).selector);
    if (podSelector.istio !== gatewayLabel(gateway)) add(`${describe(gatewayObject)} selects ${JSON.stringify(podSelector)}, not its own gateway (istio: ${gatewayLabel(gateway)})`);
    // istiod runs with PILOT_SCOPE_GATEWAY_TO_NAMESPACE: elsewhere the Gateway would configure nothing.
    if (namespaceOf(gatewayObject) !== gateway.releaseNamespace) add(`${describe(gatewayObject)} is not in its gateway's namespace ${gateway.releaseNamespace} (set ingress.istio.gatewayResourceNamespace: istiod scopes Gateways to their namespace)`);
  }
  return problems;
}

/**
 * Mutual TLS on 11112: the tenant's Gateway verifies client certificates against a modality CA of
 * its own (a self-signed CA Certificate in its gateway namespace), so another tenant's modality
 * certificate does not open its DICOM port.
 */
function checkOwnModalityCa(tenant: Tenant, render: TenantRender, gatewayNamespace: string): Problem[] {
  const problems: Problem[] = [];
  const add = (message: string) => problems.push({ check: "isolation", subject: `tenant ${tenant.name}`, message });
  for (const gatewayObject of render.objects.filter((o) => o.kind === "Gateway")) {
    const servers = (record(gatewayObject.spec).servers ?? []) as unknown[];
    const dicom = servers.map(record).find((server) => record(server.port).number === 11112);
    const tls = record(dicom?.tls);
    if (tls.mode !== "MUTUAL") {
      add(`${describe(gatewayObject)} port 11112 tls.mode is ${text(tls.mode) || "unset"}, not MUTUAL: any client with the server's CA may associate`);
      continue;
    }
    const caSecret = text(tls.caCertCredentialName);
    const ca = render.objects.find((o) => o.kind === "Certificate" && record(o.spec).isCA === true && record(o.spec).secretName === caSecret);
    if (!caSecret || !ca) {
      add(`${describe(gatewayObject)} port 11112 trusts ${caSecret ? `Secret ${caSecret}` : "the server's CA (no caCertCredentialName)"}, not a modality CA of its own (dicom.modalityCa.mode certManager)`);
      continue;
    }
    if (namespaceOf(ca) !== gatewayNamespace) add(`${describe(ca)} is not in its gateway's namespace ${gatewayNamespace}`);
    const issuer = record(record(ca.spec).issuerRef);
    if (issuer.kind !== "Issuer") add(`${describe(ca)} is issued by ${text(issuer.kind)} ${text(issuer.name)}: a shared issuer could sign a second tenant's CA with the same key`);
  }
  return problems;
}

/** No two tenants share a gateway namespace, pod label, fixed address or hostname. */
function checkDistinct(tree: FluxTree): Problem[] {
  const problems: Problem[] = [];
  const claims = new Map<string, string>();
  const claim = (what: string, owner: string) => {
    const previous = claims.get(what);
    if (previous && previous !== owner) problems.push({ check: "isolation", subject: `tenants ${previous} and ${owner}`, message: `share ${what}` });
    claims.set(what, owner);
  };
  for (const tenant of tree.tenants) {
    for (const gateway of gatewayRelease(tenant)) {
      claim(`gateway namespace ${gateway.releaseNamespace}`, tenant.name);
      claim(`gateway pod label istio=${gatewayLabel(gateway)}`, tenant.name);
      const address = text(record(gateway.values.service).loadBalancerIP);
      if (address) claim(`load balancer address ${address}`, tenant.name);
    }
    const endpoints = tenantEndpoints(tenant);
    if (endpoints) for (const host of [endpoints.web, endpoints.dicom]) claim(`hostname ${host}`, tenant.name);
  }
  return problems;
}

/** A chart source and the versions its charts must have (tasks/lib/settings.ts pins). */
interface PinnedSource {
  kind: "HelmRepository" | "OCIRepository";
  url: string;
  pin: string;
  /** HelmRepository: chart name → version. OCIRepository: ref.tag. */
  charts?: Record<string, string>;
  tag?: string;
}

export const pinnedSources: PinnedSource[] = [
  ...["base", "cni", "istiod", "gateway"].map((chart): PinnedSource => ({ kind: "OCIRepository", url: `${pins.istio.charts}/${chart}`, pin: "pins.istio", tag: pins.istio.version })),
  { kind: "HelmRepository", url: pins.kialiOperatorChart.repo, pin: "pins.kialiOperatorChart", charts: { [pins.kialiOperatorChart.chart]: pins.kialiOperatorChart.version } },
  { kind: "OCIRepository", url: pins.certManagerChart.chart, pin: "pins.certManagerChart", tag: pins.certManagerChart.version },
  { kind: "OCIRepository", url: pins.kubePrometheusStackChart.chart, pin: "pins.kubePrometheusStackChart", tag: pins.kubePrometheusStackChart.version },
  { kind: "OCIRepository", url: pins.postgresqlChart.chart, pin: "pins.postgresqlChart", tag: pins.postgresqlChart.version },
];

/** Values of the PostgreSQL release that must match helm/postgresql.values.yaml (same images, same wiring). */
export const sharedPostgresqlValues = [
  "global.security.allowInsecureImages",
  "image.registry",
  "image.repository",
  "image.tag",
  "volumePermissions.image.repository",
  "volumePermissions.image.tag",
  "auth.database",
  "auth.username",
  "auth.existingSecret",
  "auth.secretKeys.adminPasswordKey",
  "auth.secretKeys.userPasswordKey",
  "tls.enabled",
  "primary.lifecycleHooks",
];

const at = (value: unknown, path: string) => path.split(".").reduce<unknown>((node, key) => record(node)[key], value);

export function checkPins(tree: FluxTree, postgresqlValuesFile?: string): Problem[] {
  const problems: Problem[] = [];
  const add = (subject: string, message: string) => problems.push({ check: "pins", subject, message });
  const sources = tree.objects.filter((o) => o.apiVersion === "source.toolkit.fluxcd.io/v1" && (o.kind === "HelmRepository" || o.kind === "OCIRepository"));
  const sourceUrl = new Map<string, string>();
  for (const source of sources) {
    const spec = record(source.spec);
    const url = text(spec.url) ?? "";
    sourceUrl.set(`${String(source.kind)} ${namespaceOf(source)}/${nameOf(source)}`, url);
    const pinned = pinnedSources.find((item) => item.kind === source.kind && item.url === url);
    if (!pinned) {
      add(describe(source), `url ${url} is not a chart source pinned in tasks/lib/settings.ts`);
      continue;
    }
    if (pinned.tag !== undefined) {
      const ref = record(spec.ref);
      if (ref.tag !== pinned.tag || Object.keys(ref).length !== 1) add(describe(source), `ref ${JSON.stringify(ref)} must be exactly {tag: ${pinned.tag}} (${pinned.pin})`);
    }
  }
  for (const pinned of replacesUpstream(tree) ? [] : pinnedSources) {
    if (![...sourceUrl.values()].includes(pinned.url)) add(pinned.pin, `no ${pinned.kind} for ${pinned.url} in the tree`);
  }
  for (const release of tree.releases) {
    if (release.chart.sourceKind !== "HelmRepository") continue;
    const url = sourceUrl.get(`HelmRepository ${refId(release.chart.source)}`);
    const pinned = pinnedSources.find((item) => item.kind === "HelmRepository" && item.url === url);
    const wanted = pinned?.charts?.[release.chart.chart ?? ""];
    if (!pinned) continue; // the source itself is reported above
    if (!wanted) add(`HelmRelease ${refId(release.ref)}`, `chart ${release.chart.chart ?? "?"} from ${url} has no pin (${pinned.pin})`);
    else if (release.chart.version !== wanted) add(`HelmRelease ${refId(release.ref)}`, `chart ${release.chart.chart} version ${release.chart.version ?? "(none)"} is not ${wanted} (${pinned.pin})`);
  }
  if (postgresqlValuesFile) {
    const reference = parse(readFileSync(postgresqlValuesFile, "utf8")) as unknown;
    const postgresUrl = pins.postgresqlChart.chart;
    for (const release of tree.releases) {
      if (release.chart.sourceKind !== "OCIRepository" || sourceUrl.get(`OCIRepository ${refId(release.chart.source)}`) !== postgresUrl) continue;
      for (const path of sharedPostgresqlValues) {
        const mine = at(release.values, path);
        const theirs = at(reference, path);
        if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
          add(`HelmRelease ${refId(release.ref)}`, `values.${path} is ${JSON.stringify(mine)}, but ${postgresqlValuesFile.split("/").slice(-2).join("/")} says ${JSON.stringify(theirs)}`);
        }
      }
    }
  }
  return problems;
}
