// The helm and manual approaches both put Orthanc in namespace "orthanc" with
// the same release and object names. Each labels the namespace it creates with
// its own name, and every install and uninstall step checks that label first:
// installing one approach over the other would fight over the same objects
// (server-side apply conflicts, a Helm release upgraded with the wrong
// values), and uninstalling one would delete the other's database.
import { TaskError } from "./errors.ts";
import type { Kube } from "./kube.ts";
import { log } from "./log.ts";

export const approachLabel = "korthweb.io/approach";

export type Approach = "helm" | "manual" | "gitops";

const uninstallCommand: Record<Approach, string> = {
  helm: "make helm-uninstall",
  manual: "make manual-uninstall",
  gitops: "make gitops-uninstall",
};

/** The approach that created `namespace`, undefined when it does not exist or carries no claim. */
export async function namespaceOwner(kube: Kube, namespace: string): Promise<string | undefined> {
  const found = await kube.get<{ metadata: { labels?: Record<string, string> } }>("namespace", namespace);
  return found?.metadata.labels?.[approachLabel];
}

/**
 * Stops with exit code 11 when `namespace` belongs to another approach.
 * A namespace without the label (absent, or made by hand) is free to use.
 */
export async function requireNamespaceClaim(kube: Kube, namespace: string, approach: Approach): Promise<void> {
  if (kube.dryRun) return;
  const owner = await namespaceOwner(kube, namespace);
  if (owner === undefined || owner === approach) {
    log.ok(`namespace ${namespace}: ${owner === undefined ? "free" : `already the ${approach} approach's`}`);
    return;
  }
  const known = owner in uninstallCommand ? uninstallCommand[owner as Approach] : undefined;
  throw new TaskError(
    `namespace ${namespace} belongs to the ${owner} approach (label ${approachLabel}=${owner}); the ${approach} approach uses the same namespace and object names, so it stops here, having changed nothing`,
    {
      code: "namespaceTaken",
      hint: `remove that install first (${known ?? `the ${owner} install`}), or use another cluster or kube context (--context)`,
    },
  );
}
