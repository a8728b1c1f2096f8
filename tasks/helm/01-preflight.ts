// Step 1: before anything changes, check the tools, the kube context, the
// API server and its version, and that no other TLSStore/TLSOption "default"
// would fight ours (Traefik drops both when two namespaces define one).
import { TaskError } from "../lib/errors.ts";
import type { Kube } from "../lib/kube.ts";
import { log } from "../lib/log.ts";
import { requireNamespaceClaim } from "../lib/namespace-claim.ts";
import { preflight } from "../lib/preflight.ts";
import { main, type Task } from "../lib/task.ts";

const traefikDefaults = ["tlsstores.traefik.io", "tlsoptions.traefik.io"] as const;

/** TLSStores/TLSOptions named "default" outside `namespace` (none when the CRDs are not installed yet). */
export async function foreignTraefikDefaults(kube: Kube, namespace: string): Promise<string[]> {
  if ((await kube.missingCrds(traefikDefaults)).length > 0) return [];
  const found: string[] = [];
  for (const resource of traefikDefaults) {
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
    "Checks that kubectl and helm are installed and recent enough, that a kube context is selected, that its API server answers and runs Kubernetes 1.33 or newer, that the Orthanc namespace is not the manual approach's (label korthweb.io/approach), and that no TLSStore or TLSOption named default exists in another namespace (the orthanc chart creates both; Traefik ignores duplicates).",
  run: async (ctx) => {
    await preflight(ctx.kube);
    if (ctx.dryRun) return;
    await requireNamespaceClaim(ctx.kube, ctx.settings.namespaces.orthanc, "helm");
    const conflicts = await foreignTraefikDefaults(ctx.kube, ctx.settings.namespaces.orthanc);
    if (conflicts.length > 0) {
      throw new TaskError(`the cluster already has ${conflicts.join(" and ")}; Traefik would drop both that one and the orthanc chart's`, {
        code: "invalidValues",
        hint: "remove them, or install with --values FILE setting ingress.traefik.tlsStore.create and ingress.traefik.tlsOption.create to false (then no-SNI DICOM clients get that store's certificate)",
      });
    }
    log.ok("no competing Traefik TLSStore/TLSOption named default");
  },
};

if (import.meta.main) await main(task.id, [task]);
