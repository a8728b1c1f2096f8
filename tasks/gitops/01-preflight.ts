// Step 1: before anything changes — the source flags are valid, the Flux tree
// of the chosen cluster folder renders and passes the graph, lockdown,
// isolation and pins checks, kubectl is there, and the cluster answers with a
// recent enough Kubernetes.
import { TaskError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { repoRoot } from "../lib/paths.ts";
import { preflight } from "../lib/preflight.ts";
import { pins } from "../lib/settings.ts";
import { main, type Task } from "../lib/task.ts";
import { checkGraph, checkIsolation, checkLockdown, checkPins, checkRenders, formatProblem, replacesUpstream } from "../../proving-ground/checks/gitops/checks.ts";
import { selectedTenants } from "./context.ts";
import { checkFluxLockdown } from "../../proving-ground/checks/gitops/flux-lockdown-check.ts";
import { resolveSourceOptions, sourceFlags, unpublishedChanges } from "./options.ts";
import { loadFluxTree } from "./tree.ts";

export const task: Task = {
  id: "gitops/01-preflight",
  cluster: true,
  title: "Preflight: source flags, the Flux tree, tools, cluster",
  summary:
    "Resolves what Flux will follow (--url, default the checkout's origin; --branch, default its current branch; --path, default ./gitops/clusters/production) and rejects bad values, " +
    "renders that cluster folder with kubectl kustomize and checks its dependency graph, tenant lockdown and isolation and the chart pins, " +
    `then checks kubectl, the kube context and that the cluster runs Kubernetes ${pins.minKubernetesForFlux} or newer (Flux 2.9's minimum). Nothing is changed.`,
  flags: sourceFlags,
  run: async (ctx) => {
    // Kernel settings the gitops approach does not read: Git holds them per tenant.
    for (const flag of ["domain", "namespace", "release"]) {
      if (typeof ctx.flags[flag] === "string") log.warn(`--${flag} is ignored here: each tenant's domain, namespaces and releases are in its folder under gitops/tenants/`);
    }
    const source = await resolveSourceOptions(ctx.flags, repoRoot);
    log.ok(`Flux will follow ${source.url} branch ${source.branch}, folder ${source.path}`);
    const tree = await loadFluxTree(repoRoot, source.path);
    if (replacesUpstream(tree)) log.warn(`${source.path} is a proving-ground cluster whose upstream charts are replaced by stand-ins (docs/cluster.md): the own-gateway and chart-pin checks do not apply to it`);
    const problems = [...checkRenders(tree), ...checkGraph(tree), ...checkLockdown(tree), ...checkFluxLockdown(tree), ...checkIsolation(tree), ...checkPins(tree)];
    if (problems.length > 0) {
      throw new TaskError(`the Flux tree at ${source.path} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n    ${problems.map(formatProblem).join("\n    ")}`, {
        code: "findings",
        hint: "fix them (make gitops-check prints the full report), commit and push, then re-run",
      });
    }
    const tenants = selectedTenants(ctx, tree);
    log.ok(`Flux tree: ${tree.units.length} Kustomizations, ${tree.releases.length} HelmReleases; tenants ${tenants.map((t) => t.name).join(", ")}`);
    for (const note of await unpublishedChanges(repoRoot)) log.warn(`${note}: Flux deploys what is pushed to ${source.branch}, not this checkout`);
    await preflight(ctx.kube, { tools: [{ name: "kubectl", minimum: pins.minKubectl }], minKubernetes: pins.minKubernetesForFlux });
  },
};

if (import.meta.main) await main(task.id, [task]);
