// What the gitops approach actually installs from this repository's charts.
// `kubectl kustomize` of gitops/ shows a tenant's HelmRelease but not the
// Deployment, ConfigMap, … that helm-controller makes of it, so: follow each
// cluster folder under gitops/clusters/ as Flux does (tasks/gitops/tree.ts)
// and render every HelmRelease whose chart comes from this repository with its
// inline values and post-renderers (proving-ground/checks/gitops/release-render.ts). Findings
// name the folder that applies the HelmRelease, and the HelmRelease.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { renderGitRelease } from "../checks/gitops/release-render.ts";
import { chartFromThisRepository, refId, renderFluxTree, type FluxTree, type HelmReleaseInfo } from "../../tasks/gitops/tree.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import type { Source } from "./source.ts";

const clean = (path: string) => path.replace(/^\.\//, "").replace(/\/$/, "");

/** "gitops/tenants/bhc/workload (HelmRelease bhc/orthanc → helm/orthanc)" */
export function releaseLabel(tree: FluxTree, release: HelmReleaseInfo): string {
  const unit = tree.units.find((candidate) => refId(candidate.ref) === refId(release.unit));
  return `${clean(unit?.path ?? "gitops")} (HelmRelease ${refId(release.ref)} → ${clean(release.chart.chart ?? "?")})`;
}

/** Cluster folders Flux can start from: gitops/clusters/<name>, as ./gitops/clusters/<name>. */
function clusterPaths(root: string): string[] {
  const dir = join(root, "gitops", "clusters");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "kustomization.yaml")))
    .map((entry) => `./gitops/clusters/${entry.name}`)
    .sort();
}

/** One source per HelmRelease of our charts reached from any cluster folder (a release reached twice is checked once). */
export async function gitopsReleaseSources(root = repoRoot): Promise<Source[]> {
  const sources = new Map<string, Source>();
  for (const clusterPath of clusterPaths(root)) {
    let tree: FluxTree;
    try {
      tree = await renderFluxTree(root, clusterPath);
    } catch (error) {
      const label = `${clean(clusterPath)} (Flux tree)`;
      sources.set(label, { label, committed: false, load: () => Promise.reject(error as Error) });
      continue;
    }
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
