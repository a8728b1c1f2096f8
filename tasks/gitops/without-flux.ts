// --skip-upstream for the gitops approach (docs/cluster.md): Flux's
// controllers come from its release's install.yaml on the internet, so
// nothing reconciles the tree. In their place, from this checkout: each Flux
// Kustomization's kustomize output is applied in dependency order (what
// kustomize-controller would apply), and each HelmRelease of this
// repository's chart (./helm/orthanc) is installed with its values under its
// release name (what helm-controller would do). HelmReleases of upstream
// charts (Istio, cert-manager, PostgreSQL, …) are applied as objects only.
// Uninstall removes the same, in reverse.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Helm } from "../lib/helm.ts";
import { log, style } from "../lib/log.ts";
import type { KubeObject } from "../lib/manifests.ts";
import type { TaskContext } from "../lib/task.ts";
import { dependencyOrder, folderOf, orthancRelease, refId, tenantLabel, type FluxTree, type HelmReleaseInfo, type Tenant } from "./tree.ts";

/** The HelmReleases of our own chart among the selected tenants. */
export const ourReleases = (tenants: readonly Tenant[]): HelmReleaseInfo[] =>
  tenants.flatMap((tenant) => {
    const release = orthancRelease(tenant);
    return release && release.chart.sourceKind === "GitRepository" ? [release] : [];
  });

/** The Deployment each of our releases runs (the chart names it after the release). */
export const ourDeployments = (tenants: readonly Tenant[]): { namespace: string; name: string }[] =>
  ourReleases(tenants).map((release) => ({ namespace: release.releaseNamespace, name: release.releaseName }));

/** Units of the tree to act on: the platform's, and those of the selected tenants. */
function unitsFor(tree: FluxTree, tenants: readonly Tenant[]) {
  const others = tree.tenants.filter((tenant) => !tenants.includes(tenant)).flatMap((tenant) => tenant.namespaces);
  return dependencyOrder(tree.units).filter((unit) => !others.includes(unit.ref.namespace));
}

async function installRelease(helm: Helm, root: string, release: HelmReleaseInfo): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "korthweb-release-values-"));
  try {
    const valuesFile = join(dir, "values.yaml");
    writeFileSync(valuesFile, stringify(release.values));
    await helm.upgradeInstall({
      release: release.releaseName,
      namespace: release.releaseNamespace,
      chart: folderOf(root, release.chart.chart ?? ""),
      valuesFiles: [valuesFile],
      createNamespace: false,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function applyWithoutFlux(ctx: TaskContext, tree: FluxTree, tenants: readonly Tenant[]): Promise<void> {
  log.warn(`${style.yellow("[skip-upstream]")} no Flux controllers: applying the tree from this checkout in their place`);
  for (const unit of unitsFor(tree, tenants)) {
    if (unit.objects.length > 0) await ctx.kube.apply(unit.objects, `Kustomization ${refId(unit.ref)} (kustomize ${unit.path})`);
  }
  for (const release of ourReleases(tenants)) await installRelease(ctx.helm, tree.root, release);
}

const isTenantNamespace = (object: KubeObject) =>
  object.apiVersion === "v1" && object.kind === "Namespace" && typeof (object.metadata?.labels as Record<string, unknown> | undefined)?.[tenantLabel] === "string";

/** Uninstalls our releases, then deletes what applyWithoutFlux applied, newest unit first; tenant namespaces are left to the purge step. */
export async function removeWithoutFlux(ctx: TaskContext, tree: FluxTree): Promise<void> {
  log.warn(`${style.yellow("[skip-upstream]")} no Flux controllers: removing what the install applied in their place`);
  for (const release of ourReleases(tree.tenants)) await ctx.helm.uninstall(release.releaseName, release.releaseNamespace);
  for (const unit of [...dependencyOrder(tree.units)].reverse()) {
    const objects = unit.objects.filter((object) => !isTenantNamespace(object));
    if (objects.length > 0) await ctx.kube.deleteManifests(objects, `Kustomization ${refId(unit.ref)}`);
  }
}
