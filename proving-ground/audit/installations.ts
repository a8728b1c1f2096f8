// Each approach as it reaches a cluster, seen offline: the objects of ours it
// applies (rendered the way its tasks render them), the upstream chart values
// it installs with their namespaces, the Secrets its tasks create, and what
// its ingress exposes. `make audit` checks these, not the chart's example
// values sets, because they are what a user gets.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { parse } from "yaml";
import { Helm } from "../../tasks/lib/helm.ts";
import type { KubeObject, SourcedObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { loadSettings, pins } from "../../tasks/lib/settings.ts";
import { credentialSecrets, orthancRelease, postgresqlRelease, traefikRelease } from "../../tasks/helm/releases.ts";
import { files as manualFiles, releases as manualReleases, secrets as manualSecrets } from "../../tasks/manual/layout.ts";
import { platformSecrets, tenantSecrets } from "../../tasks/gitops/03-secrets.ts";
import { renderTenantReleases } from "../checks/gitops/release-render.ts";
import { loadFluxTree, record } from "../../tasks/gitops/tree.ts";
import { renderApiVersions } from "../../tasks/lib/api-versions.ts";
import { manualSources, splitHelmOutput } from "../validate/sources.ts";
import type { ServicePort, TraefikPort } from "./exposure.ts";

export interface ChartValues {
  /** File or object the values come from. */
  label: string;
  namespace: string;
  values: unknown;
}

export type Exposure =
  | { ingress: "traefik"; label: string; ports: Record<string, TraefikPort>; objects: KubeObject[] }
  | { ingress: "istio"; label: string; servicePorts: ServicePort[]; gateways: KubeObject[] };

export interface Installation {
  approach: string;
  objects: SourcedObject[];
  upstreamValues: ChartValues[];
  /** "namespace/name" of the Secrets the approach's tasks create. */
  taskSecrets: string[];
  exposures: Exposure[];
}

const rel = (path: string) => relative(repoRoot, path);
const readValues = (file: string): unknown => parse(readFileSync(file, "utf8")) ?? {};
const kindIs = (kind: string) => (item: SourcedObject) => item.object.kind === kind;

export async function helmInstallation(): Promise<Installation> {
  const settings = loadSettings({}, {});
  const release = orthancRelease(settings);
  const text = await new Helm({ context: undefined, dryRun: true }).template({
    ...release,
    apiVersions: renderApiVersions,
    kubeVersion: pins.minKubernetes,
  });
  const objects = splitHelmOutput(text, release.chart, "as tasks/helm installs it");
  const traefik = traefikRelease(settings);
  const postgresql = postgresqlRelease(settings);
  return {
    approach: "helm",
    objects,
    upstreamValues: [traefik, postgresql].flatMap((r) => (r.valuesFiles ?? []).map((file) => ({ label: rel(file), namespace: r.namespace, values: readValues(file) }))),
    taskSecrets: Object.values(credentialSecrets).map((name) => `${settings.namespaces.orthanc}/${name}`),
    exposures: [
      {
        ingress: "traefik",
        label: `Traefik (${rel(traefik.valuesFiles?.[0] ?? "")})`,
        ports: record(record(readValues(traefik.valuesFiles?.[0] ?? "")).ports) as Record<string, TraefikPort>,
        objects: objects.map((item) => item.object),
      },
    ],
  };
}

export async function manualInstallation(): Promise<Installation> {
  const objects = (await Promise.all(manualSources().map((source) => source.load()))).flat();
  const gatewayValues = record(readValues(manualFiles.gatewayValues));
  return {
    approach: "manual",
    objects,
    upstreamValues: Object.values(manualReleases).flatMap((r) =>
      ("valuesFiles" in r ? r.valuesFiles : []).map((file) => ({ label: rel(file), namespace: r.namespace, values: readValues(file) })),
    ),
    taskSecrets: [manualSecrets.admin, manualSecrets.database, manualSecrets.grafana].map((s) => `${s.namespace}/${s.name}`),
    exposures: [
      {
        ingress: "istio",
        label: `Istio gateway (${rel(manualFiles.gatewayValues)})`,
        servicePorts: (record(gatewayValues.service).ports ?? []) as ServicePort[],
        gateways: objects.filter(kindIs("Gateway")).map((item) => item.object),
      },
    ],
  };
}

export async function gitopsInstallation(): Promise<Installation> {
  const tree = await loadFluxTree(repoRoot);
  const renders = await renderTenantReleases(tree);
  const objects: SourcedObject[] = tree.objects.map((object, index) => ({ object, source: `gitops (kustomize of ${tree.clusterPath})`, index }));
  for (const [tenant, render] of renders) {
    if (render.error) throw new Error(`tenant ${tenant}: the Orthanc HelmRelease does not render: ${render.error}`);
    objects.push(...render.objects);
  }
  const exposures: Exposure[] = tree.tenants.map((tenant) => {
    const gateway = tenant.releases.find((release) => release.chart.chart === "gateway");
    const rendered = renders.get(tenant.name)?.objects ?? [];
    return {
      ingress: "istio" as const,
      label: `tenant ${tenant.name}: Istio gateway ${gateway ? `${gateway.releaseNamespace}/${gateway.releaseName}` : "(none)"}`,
      servicePorts: (record(gateway?.values.service).ports ?? []) as ServicePort[],
      gateways: rendered.filter(kindIs("Gateway")).map((item) => item.object),
    };
  });
  return {
    approach: "gitops",
    objects,
    // HelmRelease values are inside the objects; secretReferences reads them there.
    upstreamValues: [],
    taskSecrets: [...tree.tenants.flatMap(tenantSecrets), ...platformSecrets(tree)].map((s) => `${s.namespace}/${s.name}`),
    exposures,
  };
}

export async function allInstallations(): Promise<Installation[]> {
  return Promise.all([helmInstallation(), manualInstallation(), gitopsInstallation()]);
}

