// `make gitops-uninstall`: remove what Flux deployed, in the reverse order of
// the install, so that each Flux Kustomization cleans up after itself while
// its service account and the controllers still exist:
//   stop syncing (the entry and each tenant's onboarding, which would
//   re-create what the next steps remove) → tenants' workloads → tenants'
//   onboarding and the shared infrastructure → the entry and the source → Flux.
// The tenants' namespaces (database volumes, the Secrets made at install) stay
// unless --purge (PURGE=1). CRDs of Istio and cert-manager stay (Helm never
// deletes CRDs; other workloads may use them).
import { TaskError } from "../lib/errors.ts";
import { log, style } from "../lib/log.ts";
import { preflight } from "../lib/preflight.ts";
import { pins } from "../lib/settings.ts";
import { main, type Task, type TaskContext } from "../lib/task.ts";
import { skipsUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { gitopsTree } from "./context.ts";
import { fluxResources } from "./flux.ts";
import { pathFlag } from "./options.ts";
import { bootstrap, dependencyOrder, refId, tenantLabel, type Ref } from "./tree.ts";
import { removeWithoutFlux } from "./without-flux.ts";

const purging = (ctx: TaskContext) => ctx.flags.purge === true || process.env.PURGE === "1";

/**
 * True when no Flux kustomize-controller runs: the tree was applied in Flux's
 * place (install --skip-upstream), so deleting Flux Kustomizations would prune
 * nothing and our objects must be removed directly, even when the uninstall
 * was not given --skip-upstream itself.
 */
async function withoutFlux(ctx: TaskContext): Promise<boolean> {
  if (skipsUpstream(ctx)) return true;
  if (ctx.dryRun) return false;
  const controller = await ctx.kube.get("deployment", "kustomize-controller", bootstrap.namespace);
  if (controller) return false;
  log.info(`no Flux kustomize-controller in ${bootstrap.namespace}: the tree was applied without Flux (install --skip-upstream), so it is removed the same way`);
  return true;
}
const entryRef: Ref = { name: bootstrap.entryKustomization, namespace: bootstrap.namespace };

/** One entry of a Flux Kustomization's inventory ("<namespace>_<name>_<group>_<kind>"). */
export interface InventoryItem {
  namespace: string;
  name: string;
  group: string;
  kind: string;
}

export function parseInventory(object: unknown): InventoryItem[] {
  const entries = (object as { status?: { inventory?: { entries?: { id?: string }[] } } } | undefined)?.status?.inventory?.entries ?? [];
  return entries.flatMap((entry) => {
    const parts = (entry.id ?? "").split("_");
    if (parts.length !== 4) return [];
    const [namespace, name, group, kind] = parts as [string, string, string, string];
    return [{ namespace, name, group, kind }];
  });
}

const resourceOf = (item: InventoryItem) => `${item.kind.toLowerCase()}${item.group ? `.${item.group}` : ""}`;
const isFluxKustomization = (item: InventoryItem) => item.group === "kustomize.toolkit.fluxcd.io" && item.kind === "Kustomization";

/** Delete and wait until it is gone (finalizers done), within the timeout; absent objects are fine. */
async function deleteAndWait(ctx: TaskContext, resource: string, ref: { name: string; namespace?: string }): Promise<void> {
  const where = ref.namespace ? ["-n", ref.namespace] : [];
  const args = ["delete", resource, ref.name, ...where, "--ignore-not-found", "--wait=true", `--timeout=${ctx.settings.timeoutSeconds}s`];
  if (ctx.dryRun) {
    log.info(`${style.yellow("[dry-run]")} would run: kubectl ${args.join(" ")}`);
    return;
  }
  const result = await ctx.kube.kubectl(args, { allowFailure: true });
  if (result.exitCode !== 0) {
    throw new TaskError(`could not delete ${resource.split(".")[0]} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}: ${result.stderr.trim().split("\n").slice(-1)[0] ?? ""}`, {
      code: "timeout",
      hint: `see what holds it: kubectl ${ref.namespace ? `-n ${ref.namespace} ` : ""}describe ${resource} ${ref.name} (Flux finalizers wait for their cleanup), then re-run`,
    });
  }
  log.ok(`${resource.split(".")[0]} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name} removed`);
}

/** The Flux Kustomizations the entry applied (from its inventory), or the local tree's when the entry is gone. */
async function deployedUnits(ctx: TaskContext): Promise<Ref[]> {
  const entry = await ctx.kube.get(fluxResources.kustomization, entryRef.name, entryRef.namespace);
  const fromInventory = parseInventory(entry).filter(isFluxKustomization).map((item) => ({ name: item.name, namespace: item.namespace }));
  const tree = await gitopsTree(ctx);
  const inTreeOrder = dependencyOrder(tree.units).map((unit) => unit.ref).filter((ref) => refId(ref) !== refId(entryRef));
  if (!entry) return inTreeOrder;
  // Dependency order where the tree knows the unit; others (renamed since) first, as leaves.
  const known = inTreeOrder.filter((ref) => fromInventory.some((item) => refId(item) === refId(ref)));
  const unknown = fromInventory.filter((item) => !inTreeOrder.some((ref) => refId(ref) === refId(item)));
  return [...unknown, ...known];
}

const checks: Task = {
  id: "gitops/uninstall",
  cluster: true,
  title: "Preflight: tools, kube context, cluster version",
  summary: "Checks kubectl and the cluster before removing anything.",
  flags: {
    ...pathFlag,
    purge: { type: "boolean", description: "also delete the tenants' namespaces: database volumes and the Secrets made at install [env PURGE=1]" },
    "keep-flux": { type: "boolean", description: "leave the Flux controllers installed" },
    ...skipUpstreamFlag,
  },
  run: async (ctx) => {
    await preflight(ctx.kube, { tools: [{ name: "kubectl", minimum: pins.minKubectl }] });
  },
};

/** The platform's Kustomizations that onboard the tenants (tenants/base/tenant.yaml): they re-create a tenant's Kustomization unless suspended. */
async function onboardingUnits(ctx: TaskContext): Promise<Ref[]> {
  const tree = await gitopsTree(ctx);
  return tree.tenants.flatMap((tenant) => (tenant.onboarding ? [tenant.onboarding.ref] : []));
}

async function suspend(ctx: TaskContext, ref: Ref): Promise<void> {
  const args = ["patch", fluxResources.kustomization, ref.name, "-n", ref.namespace, "--type", "merge", "-p", '{"spec":{"suspend":true}}'];
  if (ctx.dryRun) return log.info(`${style.yellow("[dry-run]")} would run: kubectl ${args.join(" ")}`);
  if (!(await ctx.kube.get(fluxResources.kustomization, ref.name, ref.namespace))) return log.info(`Kustomization ${refId(ref)} is not there: nothing syncs`);
  await ctx.kube.kubectl(args, { silent: true });
  log.ok(`Kustomization ${refId(ref)} suspended`);
}

const stopSync: Task = {
  id: "gitops/uninstall",
  cluster: true,
  title: "Stop syncing from Git",
  summary: `Suspends Kustomization ${refId(entryRef)} and each tenant's onboarding Kustomization so Flux does not re-create what the next steps remove.`,
  run: async (ctx) => {
    for (const ref of [entryRef, ...(await onboardingUnits(ctx))]) await suspend(ctx, ref);
  },
};

const tenants: Task = {
  id: "gitops/uninstall",
  cluster: true,
  title: "Remove the tenants' workloads",
  summary: "Deletes each tenant's Flux Kustomization; Flux then uninstalls its gateway, PostgreSQL and Orthanc releases as the tenant's account. Namespaces and volumes stay. Without a running Flux (an install with --skip-upstream) the tree's objects are deleted directly instead.",
  run: async (ctx) => {
    if (await withoutFlux(ctx)) await removeWithoutFlux(ctx, await gitopsTree(ctx));
    for (const ref of (await deployedUnits(ctx)).filter((unit) => unit.namespace !== bootstrap.namespace)) await deleteAndWait(ctx, fluxResources.kustomization, ref);
  },
};

const infrastructure: Task = {
  id: "gitops/uninstall",
  cluster: true,
  title: "Remove the tenants' onboarding and the shared infrastructure",
  summary:
    "Deletes the Kustomizations in flux-system in reverse dependency order: each tenant's onboarding (suspended, so its account, bindings and sources are deleted here from its inventory; the tenant's namespaces stay unless --purge), " +
    "then configs before controllers (Flux uninstalls Kiali, monitoring, cert-manager and Istio and deletes their namespaces).",
  run: async (ctx) => {
    const units = (await deployedUnits(ctx)).filter((unit) => unit.namespace === bootstrap.namespace);
    const onboarding = (await onboardingUnits(ctx)).map(refId);
    for (const ref of [...units].reverse()) {
      // Suspended in the first step, so its objects are removed here rather than left to Flux.
      if (onboarding.includes(refId(ref))) await removeLeftovers(ctx, ref);
      await deleteAndWait(ctx, fluxResources.kustomization, ref);
    }
  },
};

/**
 * Remaining objects a suspended Kustomization applied (namespaces, service accounts, bindings, sources), from its
 * inventory, tenant namespaces excepted unless purging. Returns the namespaces kept.
 */
async function removeLeftovers(ctx: TaskContext, ref: Ref): Promise<string[]> {
  if (ctx.dryRun) {
    log.info(`${style.yellow("[dry-run]")} would delete the objects ${refId(ref)} applied (from its inventory), keeping tenant namespaces unless --purge`);
    return [];
  }
  const unit = await ctx.kube.get(fluxResources.kustomization, ref.name, ref.namespace);
  const kept: string[] = [];
  for (const item of parseInventory(unit).filter((i) => !isFluxKustomization(i)).reverse()) {
    if (item.kind === "Namespace" && item.group === "") {
      const namespace = await ctx.kube.get<{ metadata?: { labels?: Record<string, string> } }>("namespace", item.name);
      if (namespace?.metadata?.labels?.[tenantLabel] && !purging(ctx)) {
        kept.push(item.name);
        continue;
      }
    }
    await deleteAndWait(ctx, resourceOf(item), { name: item.name, ...(item.namespace ? { namespace: item.namespace } : {}) });
  }
  if (kept.length > 0) log.info(`kept: namespaces ${kept.join(", ")} (database volumes, Secrets); --purge (PURGE=1) deletes them`);
  return kept;
}

const entry: Task = {
  id: "gitops/uninstall",
  cluster: true,
  title: "Remove the entry Kustomization and the Git source",
  summary: `Deletes anything ${refId(entryRef)} applied itself that is still there (tenant namespaces only with --purge), then it and the GitRepository.`,
  run: async (ctx) => {
    await removeLeftovers(ctx, entryRef);
    await deleteAndWait(ctx, fluxResources.kustomization, entryRef);
    await deleteAndWait(ctx, fluxResources.gitRepository, { name: bootstrap.gitRepository, namespace: bootstrap.namespace });
  },
};

const flux: Task = {
  id: "gitops/uninstall",
  cluster: true,
  title: "Remove Flux",
  summary: "Deletes the Flux controllers, their namespace, cluster roles and CRDs (skipped with --keep-flux, or while Flux objects remain).",
  run: async (ctx) => {
    if (ctx.flags["keep-flux"] === true) return log.info("kept: the Flux controllers (--keep-flux)");
    const remaining = [
      ...(await ctx.kube.list(fluxResources.kustomization)),
      ...(await ctx.kube.list(fluxResources.helmRelease)),
    ];
    if (remaining.length > 0) {
      log.warn(`${remaining.length} Flux Kustomizations/HelmReleases remain (not from this tree?): Flux stays so their finalizers can run`);
      return;
    }
    const selector = "app.kubernetes.io/part-of=flux";
    for (const args of [
      ["delete", "namespace", bootstrap.namespace, "--ignore-not-found", "--wait=true", `--timeout=${ctx.settings.timeoutSeconds}s`],
      ["delete", "customresourcedefinitions,clusterroles,clusterrolebindings", "-l", selector, "--ignore-not-found"],
    ]) {
      if (ctx.dryRun) log.info(`${style.yellow("[dry-run]")} would run: kubectl ${args.join(" ")}`);
      else await ctx.kube.kubectl(args);
    }
    if (!ctx.dryRun) log.ok(`Flux removed`);
  },
};

const purge: Task = {
  id: "gitops/uninstall",
  cluster: true,
  title: "Tenants' data: kept, or deleted with --purge",
  summary: "With --purge (PURGE=1), deletes the tenants' namespaces that are still there: PostgreSQL volumes and the credential Secrets go with them.",
  run: async (ctx) => {
    const tree = await gitopsTree(ctx);
    const namespaces = tree.tenants.flatMap((tenant) => tenant.namespaces);
    if (!purging(ctx)) {
      log.info(`kept: namespaces ${namespaces.join(", ")} if present (database volumes, Secrets); delete them with PURGE=1`);
      return;
    }
    for (const namespace of namespaces) await deleteAndWait(ctx, "namespace", { name: namespace });
    log.ok("the gitops approach is uninstalled, data included");
  },
};

export const uninstallSteps = [checks, stopSync, tenants, infrastructure, entry, flux, purge];

if (import.meta.main) await main("gitops-uninstall", uninstallSteps);
