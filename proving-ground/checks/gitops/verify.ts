// Every offline check of the gitops approach at once, for a checkout (the real
// one, or a copy with changes): the Flux tree renders, its graph, lockdown,
// isolation, pins and mesh checks pass, every kustomization under gitops/ and every
// tenant's Orthanc release (chart + inline values) is clean under the
// validator. `make gitops-check` runs it; so do the tests.
import { join, relative } from "node:path";
import { describeError, ExitCode, exitCodeOf } from "../../../tasks/lib/errors.ts";
import { log, style } from "../../../tasks/lib/log.ts";
import { repoRoot } from "../../../tasks/lib/paths.ts";
import { formatFinding, type Finding } from "../../validate/finding.ts";
import { kustomizeSources } from "../../validate/sources.ts";
import { validateObjects, validateSources } from "../../validate/validate.ts";
import { checkGraph, checkIsolation, checkLockdown, checkPins, checkRenders, formatProblem, type Problem, type TenantRender } from "./checks.ts";
import { checkFluxLockdown, checkNoRemoteBases } from "./flux-lockdown-check.ts";
import { checkMesh } from "./mesh-check.ts";
import { renderTenantReleases } from "./release-render.ts";
import { defaultClusterPath, renderFluxTree, type FluxTree } from "../../../tasks/gitops/tree.ts";

export interface Verification {
  tree: FluxTree;
  problems: Problem[];
  findings: Finding[];
  /** Objects checked by the validator (kustomize outputs and rendered releases). */
  objects: number;
}

export async function verifyCheckout(root = repoRoot, clusterPath = defaultClusterPath): Promise<Verification> {
  const tree = await renderFluxTree(root, clusterPath);
  const releases = await renderTenantReleases(tree);
  const renders = new Map<string, TenantRender>();
  for (const [tenant, render] of releases) renders.set(tenant, { objects: render.objects.map((item) => item.object), ...(render.error ? { error: render.error } : {}) });
  const problems = [
    ...checkRenders(tree),
    ...checkGraph(tree),
    ...checkLockdown(tree),
    ...checkFluxLockdown(tree),
    ...checkNoRemoteBases(root),
    ...checkIsolation(tree, renders),
    ...checkPins(tree, join(root, "helm", "postgresql.values.yaml")),
    ...checkMesh(tree, new Map([...renders].map(([tenant, render]) => [tenant, render.objects]))),
  ];
  const kustomizations = await validateSources(kustomizeSources(root));
  const findings = kustomizations.flatMap((result) => result.findings);
  let objects = kustomizations.reduce((sum, result) => sum + result.objects, 0);
  for (const render of releases.values()) {
    findings.push(...(await validateObjects(render.objects, { committed: false })));
    objects += render.objects.length;
  }
  return { tree, problems, findings, objects };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes("--help")) {
    process.stdout.write("usage: node proving-ground/checks/gitops/verify.ts [--path ./gitops/clusters/NAME]\n\nRenders the Flux tree and runs every offline gitops check (render, graph, lockdown, isolation, pins, mesh, validator on kustomize output and on each tenant's Orthanc release). Needs no cluster.\n");
    return 0;
  }
  const pathIndex = args.indexOf("--path");
  const clusterPath = pathIndex >= 0 ? args[pathIndex + 1] ?? defaultClusterPath : defaultClusterPath;
  const result = await verifyCheckout(repoRoot, clusterPath);
  for (const tenant of result.tree.tenants) log.info(`tenant ${style.bold(tenant.name)}: namespaces ${tenant.namespaces.join(", ")}; ${tenant.releases.length} releases`);
  for (const unit of result.tree.units) log.info(`Kustomization ${unit.ref.namespace}/${unit.ref.name} → ${unit.path}: ${unit.objects.length} objects`);
  for (const problem of result.problems) process.stdout.write(`${formatProblem(problem)}\n`);
  for (const finding of result.findings) process.stdout.write(`${formatFinding(finding)}\n`);
  const count = result.problems.length + result.findings.length;
  const summary = `${count} problem${count === 1 ? "" : "s"}: ${result.tree.units.length} Flux Kustomizations, ${result.tree.tenants.length} tenants, ${result.objects} objects validated (${relative(repoRoot, join(repoRoot, clusterPath)) || clusterPath})`;
  if (count > 0) log.error(summary);
  else log.plain(style.green(`✓ ${summary}`));
  return count > 0 ? ExitCode.findings : 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (error) {
    log.error(describeError(error));
    process.exitCode = exitCodeOf(error);
  }
}
