// What the gitops approach actually installs, beyond `kubectl kustomize` of
// each folder. That shows a tenant's base folders with ${tenant} still in
// them and a tenant's HelmRelease, but neither the objects Flux applies after
// filling in a Kustomization's postBuild variables nor the Deployment,
// ConfigMap, … that helm-controller makes of the HelmRelease. So: follow each
// cluster folder under gitops/clusters/ as Flux does (tasks/gitops/tree.ts,
// which substitutes), take every Kustomization with postBuild variables, and
// render every HelmRelease whose chart comes from this repository with its
// inline values and post-renderers (proving-ground/checks/gitops/release-render.ts).
// Findings name the folder and the Kustomization or HelmRelease.
import { renderGitRelease } from "../checks/gitops/release-render.ts";
import { chartFromThisRepository, clusterFolders, record, refId, renderFluxTree, type FluxTree, type HelmReleaseInfo } from "../../tasks/gitops/tree.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import type { Source } from "./source.ts";

const clean = (path: string) => path.replace(/^\.\//, "").replace(/\/$/, "");

/** "gitops/tenants/bhc/workload (HelmRelease bhc/orthanc → helm/orthanc)" */
export function releaseLabel(tree: FluxTree, release: HelmReleaseInfo): string {
  const unit = tree.units.find((candidate) => refId(candidate.ref) === refId(release.unit));
  return `${clean(unit?.path ?? "gitops")} (HelmRelease ${refId(release.ref)} → ${clean(release.chart.chart ?? "?")})`;
}

/** What each Kustomization with postBuild variables applies, substituted: "gitops/tenants/base/workload (Kustomization bhc/tenant, postBuild)". */
export function substitutedUnitSources(tree: FluxTree): Source[] {
  return tree.units
    .filter((unit) => unit.object && Object.keys(record(record(record(unit.object.spec).postBuild))).length > 0)
    .map((unit): Source => {
      const label = `${clean(unit.path)} (Kustomization ${refId(unit.ref)}, postBuild)`;
      return {
        label,
        committed: true,
        load: async () => {
          if (unit.renderError) throw new Error(unit.renderError);
          return unit.objects.map((object, index) => ({ object, source: label, index }));
        },
      };
    });
}

/** One source per substituted Kustomization and per HelmRelease of our charts reached from any cluster folder (one reached twice is checked once). */
export async function gitopsReleaseSources(root = repoRoot): Promise<Source[]> {
  const sources = new Map<string, Source>();
  for (const clusterPath of clusterFolders(root)) {
    let tree: FluxTree;
    try {
      tree = await renderFluxTree(root, clusterPath);
    } catch (error) {
      const label = `${clean(clusterPath)} (Flux tree)`;
      sources.set(label, { label, committed: false, load: () => Promise.reject(error as Error) });
      continue;
    }
    for (const source of substitutedUnitSources(tree)) if (!sources.has(source.label)) sources.set(source.label, source);
    for (const release of tree.releases.filter((release) => chartFromThisRepository(tree, release))) {
      const label = releaseLabel(tree, release);
      if (sources.has(label)) continue;
      sources.set(label, {
        label,
        // Rendered by helm-controller at install time, like the helm sources.
        committed: false,
        load: async () => {
          const render = await renderGitRelease(root, release);
          if (render.error) throw new Error(render.error);
          return render.objects.map((item) => ({ ...item, source: label }));
        },
      });
    }
  }
  return [...sources.values()];
}
