// What every gitops step reads first: the Flux tree of the chosen cluster
// folder (rendered from this checkout) and the tenants to act on.
import { TaskError } from "../lib/errors.ts";
import { repoRoot } from "../lib/paths.ts";
import type { TaskContext } from "../lib/task.ts";
import { clusterPathFrom } from "./options.ts";
import { loadFluxTree, type FluxTree, type Tenant } from "./tree.ts";

export function gitopsTree(ctx: TaskContext): Promise<FluxTree> {
  return loadFluxTree(repoRoot, clusterPathFrom(ctx.flags, repoRoot));
}

/** The tenants in the tree, or those named by --tenants / KORTHWEB_TENANTS (each must be in the tree). */
export function selectedTenants(ctx: TaskContext, tree: FluxTree, env: NodeJS.ProcessEnv = process.env): Tenant[] {
  const named = typeof ctx.flags.tenants === "string" || (env.KORTHWEB_TENANTS ?? "") !== "";
  if (!named) return tree.tenants;
  const known = tree.tenants.map((tenant) => tenant.name);
  const unknown = ctx.settings.tenants.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new TaskError(`tenant${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} not in ${tree.clusterPath} (it has ${known.join(", ") || "none"})`, {
      code: "usage",
      hint: "add the tenant's folder and its line in the cluster's kustomization.yaml (docs/gitops.md), or leave --tenants out to act on all",
    });
  }
  return tree.tenants.filter((tenant) => ctx.settings.tenants.includes(tenant.name));
}
