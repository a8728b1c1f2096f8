// Step 4: point Flux at the fork — the GitRepository (URL, branch, optional
// credentials Secret) and the entry Kustomization that applies the cluster
// folder, and points the tenants' copies of the repository at the same fork
// (with the credentials copied next to them). From here on Git is the source
// of truth; re-running with other flags re-points them.
import { log } from "../lib/log.ts";
import { repoRoot } from "../lib/paths.ts";
import { main, type Task } from "../lib/task.ts";
import { gitopsTree } from "./context.ts";
import { entryKustomizationObject, fluxResources, gitRepositoryObject } from "./flux.ts";
import { copyGitSecret } from "./git-secret.ts";
import { resolveSourceOptions, sourceFlags } from "./options.ts";
import { bootstrap } from "./tree.ts";

export const task: Task = {
  id: "gitops/04-source",
  cluster: true,
  title: "Point Flux at your fork",
  summary:
    `Creates (or updates) GitRepository ${bootstrap.namespace}/${bootstrap.gitRepository} for --url and --branch (with --git-secret for private forks) ` +
    `and Kustomization ${bootstrap.namespace}/${bootstrap.entryKustomization} applying --path, which also points each tenant's own copy of the repository at the fork ` +
    "(with --git-secret, that Secret is copied into each tenant's namespace for it). Only gitops/ and helm/ are fetched.",
  flags: sourceFlags,
  validate: async (ctx) => {
    await resolveSourceOptions(ctx.flags, repoRoot);
  },
  crds: () => ({
    names: [fluxResources.gitRepository, fluxResources.kustomization],
    hint: "run tasks/gitops/02-flux.ts first (it installs Flux and its CRDs), or make gitops-install",
  }),
  run: async (ctx) => {
    const source = await resolveSourceOptions(ctx.flags, repoRoot);
    const current = await ctx.kube.get<{ spec?: { url?: string; ref?: { branch?: string } } }>(fluxResources.gitRepository, bootstrap.gitRepository, bootstrap.namespace);
    if (current?.spec?.url && (current.spec.url !== source.url || current.spec.ref?.branch !== source.branch)) {
      log.warn(`re-pointing Flux from ${current.spec.url} (${current.spec.ref?.branch ?? "?"}) to ${source.url} (${source.branch})`);
    }
    if (source.secretName) {
      const tree = await gitopsTree(ctx);
      const tenantCopies = tree.repositories.filter((ref) => ref.namespace !== bootstrap.namespace).map((ref) => ref.namespace);
      await copyGitSecret(ctx.kube, source.secretName, tenantCopies, ctx.dryRun);
    }
    await ctx.kube.apply([gitRepositoryObject(source), entryKustomizationObject(source)], "Flux source and entry Kustomization");
  },
};

if (import.meta.main) await main(task.id, [task]);
