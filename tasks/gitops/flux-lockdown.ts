// Flux multi-tenancy lockdown, applied to the release's install.yaml before
// it goes to the cluster (as Flux's multi-tenancy guide does with kustomize
// patches at bootstrap): the controllers refuse references to another
// namespace's objects, kustomize-controller refuses remote bases, and a
// Kustomization or HelmRelease that names no service account runs as one
// that has no rights instead of as the controller (cluster-admin). A pure
// function over the parsed documents, so it is tested without a cluster.
import { TaskError } from "../lib/errors.ts";
import type { KubeObject } from "../lib/manifests.ts";
import { record, text } from "../lib/values.ts";
import { bootstrap } from "./tree.ts";

/**
 * What Flux impersonates for an object that names no service account. No binding names it (a check
 * keeps it so), so it has no rights: such an object fails instead of running as the controller.
 */
export const noRightsServiceAccount = "flux-no-rights";

/** Flags per controller Deployment, as "--name=value". */
export const lockdownFlags: Readonly<Record<string, readonly string[]>> = {
  "kustomize-controller": ["--no-cross-namespace-refs=true", "--no-remote-bases=true", `--default-service-account=${noRightsServiceAccount}`],
  "helm-controller": ["--no-cross-namespace-refs=true", `--default-service-account=${noRightsServiceAccount}`],
  "notification-controller": ["--no-cross-namespace-refs=true"],
};

/** The service account each controller keeps its own (cluster-admin) rights through: what our platform objects name. */
export const controllerAccounts = { kustomization: "kustomize-controller", helmRelease: "helm-controller" } as const;

const flagName = (flag: string) => flag.split("=")[0]!;

/** args with each of `flags` set: an earlier value of the same flag (either form) is replaced, order otherwise kept. */
export function withFlags(args: readonly string[], flags: readonly string[]): string[] {
  const names = new Set(flags.map(flagName));
  return [...args.filter((arg) => !names.has(flagName(arg))), ...flags];
}

function isController(object: KubeObject, name: string): boolean {
  return object.kind === "Deployment" && object.metadata?.name === name && (object.metadata?.namespace ?? bootstrap.namespace) === bootstrap.namespace;
}

/** The install manifest's objects with the lockdown flags on the controllers' manager containers; the input is left unchanged. */
export function lockDownFlux(objects: readonly KubeObject[]): KubeObject[] {
  const out = structuredClone(objects) as KubeObject[];
  for (const [controller, flags] of Object.entries(lockdownFlags)) {
    const deployment = out.find((object) => isController(object, controller));
    const containers = record(record(record(deployment?.spec).template).spec).containers;
    const manager = Array.isArray(containers) ? containers.map(record).find((container) => text(container.name) === "manager") : undefined;
    if (!deployment || !manager) {
      throw new TaskError(`the Flux manifest has no Deployment ${bootstrap.namespace}/${controller} with a "manager" container to lock down`, {
        code: "invalidValues",
        hint: "use the release's own install.yaml: korthweb adds the multi-tenancy flags to its controllers",
      });
    }
    manager.args = withFlags(Array.isArray(manager.args) ? manager.args.map(String) : [], flags);
  }
  return out;
}
