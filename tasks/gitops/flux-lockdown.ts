// Flux's multi-tenancy lockdown. The lockdown itself is YAML: kustomize patches
// in the cluster's flux-system folder (gitops/clusters/<name>/flux-system),
// laid out as `flux bootstrap` lays it out, over the release's install.yaml as
// gotk-components.yaml. Here: building that folder over a given manifest
// (step 2 with the real one, the checks with a stand-in), and what the result
// must hold, so that a patch that no longer matches (kustomize skips a patch
// whose target matches nothing) stops the install instead of leaving Flux open.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { parseManifests, type KubeObject } from "../lib/manifests.ts";
import { requireToolPath } from "../lib/tools.ts";
import { record, text } from "../lib/values.ts";
import { bootstrap, folderOf } from "./tree.ts";

/**
 * What Flux impersonates for an object that names no service account. No binding names it (a check
 * keeps it so), so it has no rights: such an object fails instead of running as the controller.
 */
export const noRightsServiceAccount = "flux-no-rights";

/** The flags each controller's "manager" container must run with once the folder's patches are applied. */
export const lockdownFlags: Readonly<Record<string, readonly string[]>> = {
  "kustomize-controller": ["--no-cross-namespace-refs=true", "--no-remote-bases=true", `--default-service-account=${noRightsServiceAccount}`],
  "helm-controller": ["--no-cross-namespace-refs=true", `--default-service-account=${noRightsServiceAccount}`],
  "notification-controller": ["--no-cross-namespace-refs=true"],
};

/**
 * Controllers a Flux install may leave out (`flux install --components` does; the real-node tier's stand-in,
 * proving-ground/real-node/flux.ts, has no notification-controller): absent, they have nothing to lock down.
 * kustomize-controller and helm-controller, which apply the tree, are always required.
 */
export const optionalControllers: readonly string[] = ["notification-controller"];

/** The service account each controller keeps its own (cluster-admin) rights through: what our platform objects name. */
export const controllerAccounts = { kustomization: "kustomize-controller", helmRelease: "helm-controller" } as const;

/** A Flux install manifest and where it came from (flux.ts checks it is the pinned release). */
export interface ManifestText {
  text: string;
  origin: string;
}

/** The file the folder's kustomization.yaml lists for the release's manifest (flux bootstrap's name for it). */
export const componentsFile = "gotk-components.yaml";

/** "./gitops/clusters/production" → "./gitops/clusters/production/flux-system". */
export const fluxSystemPath = (clusterPath: string) => `${clusterPath.replace(/\/$/, "")}/${bootstrap.namespace}`;

/**
 * `kubectl kustomize` of the cluster's flux-system folder with `manifest` as its gotk-components.yaml.
 * The folder is copied to a scratch directory first: the checkout is never written to.
 */
export async function buildFluxSystem(root: string, clusterPath: string, manifest: ManifestText): Promise<KubeObject[]> {
  const folder = folderOf(root, fluxSystemPath(clusterPath));
  if (!existsSync(join(folder, "kustomization.yaml"))) {
    throw new TaskError(`${fluxSystemPath(clusterPath)}/kustomization.yaml is missing: it holds Flux's multi-tenancy lockdown`, {
      code: "usage",
      hint: "restore it from this repository (git checkout -- gitops/clusters), or point --path at a cluster folder that has one",
    });
  }
  const scratch = mkdtempSync(join(tmpdir(), "korthweb-flux-system-"));
  try {
    cpSync(folder, scratch, { recursive: true });
    writeFileSync(join(scratch, componentsFile), manifest.text);
    const result = await run(requireToolPath("kubectl"), ["kustomize", scratch], { silent: true, allowFailure: true });
    if (result.exitCode !== 0) {
      throw new TaskError(`kubectl kustomize ${fluxSystemPath(clusterPath)} (over ${manifest.origin}) failed: ${result.stderr.trim().split("\n").slice(-3).join(" ")}`, {
        code: "invalidValues",
        hint: `fix the patches in ${fluxSystemPath(clusterPath)}/kustomization.yaml`,
      });
    }
    return parseManifests(result.stdout, `${fluxSystemPath(clusterPath)} (kustomize over ${manifest.origin})`).map((item) => item.object);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function managerArgs(objects: readonly KubeObject[], controller: string): string[] | undefined {
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === controller && (o.metadata?.namespace ?? bootstrap.namespace) === bootstrap.namespace);
  const containers = record(record(record(deployment?.spec).template).spec).containers;
  const manager = Array.isArray(containers) ? containers.map(record).find((container) => text(container.name) === "manager") : undefined;
  return manager ? (Array.isArray(manager.args) ? manager.args.map(String) : []) : undefined;
}

/** What the built Flux manifest lacks of the lockdown, one sentence each (empty: locked down). */
export function lockdownGaps(objects: readonly KubeObject[]): string[] {
  return Object.entries(lockdownFlags).flatMap(([controller, flags]) => {
    const args = managerArgs(objects, controller);
    if (!args && optionalControllers.includes(controller) && !objects.some((o) => o.kind === "Deployment" && o.metadata?.name === controller)) return [];
    if (!args) return [`no Deployment ${bootstrap.namespace}/${controller} with a "manager" container`];
    return flags.flatMap((flag) => {
      const name = flag.split("=")[0]!;
      const set = args.filter((arg) => arg.split("=")[0] === name);
      if (set.length === 0) return [`${controller} runs without ${flag}`];
      // The last occurrence wins for Go flags: an earlier default does not matter, a later override does.
      return set.at(-1) === flag ? [] : [`${controller} runs with ${set.at(-1)}, not ${flag}`];
    });
  });
}

/** buildFluxSystem, refused when the result is not locked down. */
export async function lockedDownFlux(root: string, clusterPath: string, manifest: ManifestText): Promise<KubeObject[]> {
  const objects = await buildFluxSystem(root, clusterPath, manifest);
  const gaps = lockdownGaps(objects);
  if (gaps.length > 0) {
    throw new TaskError(`${fluxSystemPath(clusterPath)} over ${manifest.origin} is not locked down: ${gaps.join("; ")}`, {
      code: "invalidValues",
      hint: `the patches in ${fluxSystemPath(clusterPath)}/kustomization.yaml must add these flags to the controllers' "manager" container (docs/gitops.md, Flux multi-tenancy lockdown)`,
    });
  }
  return objects;
}
