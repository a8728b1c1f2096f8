// What a tenant's Orthanc HelmRelease deploys, computed offline the way
// helm-controller does it: `helm template` of the chart in this checkout with
// the release's inline values, then the release's kustomize post-renderers.
// The values live only in gitops/ YAML, so this is how they are proven.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { run } from "../../../tasks/lib/exec.ts";
import { Helm } from "../../../tasks/lib/helm.ts";
import { parseManifests, type SourcedObject } from "../../../tasks/lib/manifests.ts";
import { pins } from "../../../tasks/lib/settings.ts";
import { requireToolPath } from "../../../tasks/lib/tools.ts";
import { renderApiVersions } from "../../../tasks/lib/api-versions.ts";
import { chartFromThisRepository, folderOf, orthancRelease, record, refId, type FluxTree, type HelmReleaseInfo } from "../../../tasks/gitops/tree.ts";

export interface ReleaseRender {
  objects: SourcedObject[];
  error?: string;
}


/** The kustomize patches of spec.postRenderers; other post-renderer fields are refused (not emulated). */
function postRendererPatches(release: HelmReleaseInfo): unknown[] {
  const renderers = record(release.object.spec).postRenderers;
  if (!Array.isArray(renderers)) return [];
  return renderers.flatMap((renderer) => {
    const kustomize = record(record(renderer).kustomize);
    const other = Object.keys(kustomize).filter((key) => key !== "patches");
    if (other.length > 0) throw new Error(`post-renderer fields ${other.join(", ")} are not supported by this check`);
    return Array.isArray(kustomize.patches) ? kustomize.patches : [];
  });
}

async function applyPatches(manifests: string, patches: unknown[]): Promise<string> {
  if (patches.length === 0) return manifests;
  const dir = mkdtempSync(join(tmpdir(), "korthweb-postrender-"));
  try {
    writeFileSync(join(dir, "rendered.yaml"), manifests);
    writeFileSync(join(dir, "kustomization.yaml"), stringify({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ["rendered.yaml"], patches }));
    const { stdout } = await run(requireToolPath("kubectl"), ["kustomize", dir], { silent: true });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Render one HelmRelease of a chart from this repository (chart path relative to the repository root). */
export async function renderGitRelease(root: string, release: HelmReleaseInfo): Promise<ReleaseRender> {
  const label = `HelmRelease ${refId(release.ref)}`;
  const dir = mkdtempSync(join(tmpdir(), "korthweb-release-"));
  try {
    const valuesFile = join(dir, "values.yaml");
    writeFileSync(valuesFile, stringify(release.values));
    const helm = new Helm({ context: undefined, dryRun: true });
    const rendered = await helm.template({
      chart: folderOf(root, release.chart.chart ?? ""),
      release: release.releaseName,
      namespace: release.releaseNamespace,
      valuesFiles: [valuesFile],
      apiVersions: renderApiVersions,
      kubeVersion: pins.minKubernetes,
    });
    const patched = await applyPatches(rendered, postRendererPatches(release));
    return { objects: parseManifests(patched, `${label} → ${release.chart.chart} (values from gitops/)`) };
  } catch (error) {
    return { objects: [], error: (error as Error).message.split("\n").slice(0, 6).join(" ") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each tenant's Orthanc release, rendered; keyed by tenant name. */
export async function renderTenantReleases(tree: FluxTree): Promise<Map<string, ReleaseRender>> {
  const out = new Map<string, ReleaseRender>();
  for (const tenant of tree.tenants) {
    const release = orthancRelease(tenant);
    if (release && chartFromThisRepository(tree, release)) out.set(tenant.name, await renderGitRelease(tree.root, release));
  }
  return out;
}
