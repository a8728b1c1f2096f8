// Step 1: before anything changes, check the tools, the kube context, the
// API server and its version, and that no other TLSStore/TLSOption "default"
// would fight ours (Traefik drops both when two namespaces define one).
import { TaskError } from "../lib/errors.ts";
import type { Kube } from "../lib/kube.ts";
import { log } from "../lib/log.ts";
import { requireNamespaceClaim } from "../lib/namespace-claim.ts";
import type { KubeObject } from "../lib/manifests.ts";
import { preflight } from "../lib/preflight.ts";
import { main, type Task } from "../lib/task.ts";
import { renderOrthanc, valuesFlag } from "./orthanc-render.ts";

/** The Traefik resources (plural.group) for which the chart, with these values, renders an object named "default". */
export function defaultsRendered(objects: readonly KubeObject[]): string[] {
  const resource: Record<string, string> = { TLSStore: "tlsstores.traefik.io", TLSOption: "tlsoptions.traefik.io" };
  return objects.flatMap((object) => {
    const name = resource[String(object.kind)];
    return name && object.metadata?.name === "default" ? [name] : [];
  });
}

/** Objects of `resources` named "default" outside `namespace` (none when the CRDs are not installed yet). */
export async function foreignTraefikDefaults(kube: Kube, namespace: string, resources: readonly string[]): Promise<string[]> {
  if (resources.length === 0 || (await kube.missingCrds(resources)).length > 0) return [];
  const found: string[] = [];
  for (const resource of resources) {
    const items = await kube.list<{ metadata: { name: string; namespace: string } }>(resource);
    for (const item of items) {
      if (item.metadata.name === "default" && item.metadata.namespace !== namespace) found.push(`${resource.split(".")[0]} ${item.metadata.namespace}/default`);
    }
  }
  return found;
}

export const task: Task = {
  id: "helm/01-preflight",
  cluster: true,
  title: "Preflight: tools, kube context, cluster version",
  summary:
    "Checks that kubectl and helm are installed and recent enough, that a kube context is selected, that its API server answers and runs Kubernetes 1.33 or newer, that the Orthanc namespace is not the manual approach's (label korthweb.io/approach), and that no TLSStore or TLSOption named default that the chart would create (with --values FILE, as step 5 renders it) exists in another namespace (Traefik ignores duplicates).",
  flags: valuesFlag,
  run: async (ctx) => {
    await preflight(ctx.kube);
    if (ctx.dryRun) return;
    await requireNamespaceClaim(ctx.kube, ctx.settings.namespaces.orthanc, "helm");
    const ours = defaultsRendered(await renderOrthanc(ctx));
    const conflicts = await foreignTraefikDefaults(ctx.kube, ctx.settings.namespaces.orthanc, ours);
    if (conflicts.length > 0) {
      throw new TaskError(`the cluster already has ${conflicts.join(" and ")}; Traefik would drop both that one and the orthanc chart's`, {
        code: "invalidValues",
        hint: "remove them, or install with --values FILE setting ingress.traefik.tlsStore.create and/or ingress.traefik.tlsOption.create to false (then no-SNI DICOM clients get that store's certificate; TLS versions follow that option)",
      });
    }
    log.ok(ours.length > 0 ? "no competing Traefik TLSStore/TLSOption named default" : "the chart creates no Traefik TLSStore/TLSOption named default with these values: nothing to compete with");
  },
};

if (import.meta.main) await main(task.id, [task]);
