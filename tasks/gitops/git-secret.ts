// A private fork's credentials for the tenants' copies of the repository.
// Flux refuses cross-namespace references, so each tenant's GitRepository
// (tenants/base/onboarding/sources.yaml) needs the Secret in its own
// namespace: step 4 copies the one given with --git-secret from flux-system.
// The tenant's account can read it there (it administers its namespace): use
// a read-only deploy key or token.
import { TaskError } from "../lib/errors.ts";
import type { Kube } from "../lib/kube.ts";
import { log, style } from "../lib/log.ts";
import type { KubeObject } from "../lib/manifests.ts";
import { bootstrap } from "./tree.ts";

export async function copyGitSecret(kube: Kube, name: string, namespaces: readonly string[], dryRun: boolean): Promise<void> {
  if (namespaces.length === 0) return;
  if (dryRun) {
    log.info(`${style.yellow("[dry-run]")} would copy Secret ${bootstrap.namespace}/${name} into ${namespaces.join(", ")} (the tenants' copies of the repository read it there)`);
    return;
  }
  const secret = await kube.get<{ type?: string; data?: Record<string, string> }>("secret", name, bootstrap.namespace);
  if (!secret) {
    throw new TaskError(`--git-secret ${name}: no Secret ${bootstrap.namespace}/${name}`, {
      code: "usage",
      hint: "create it first (docs/gitops.md, Private forks), then re-run this step",
    });
  }
  for (const namespace of namespaces) {
    if (!(await kube.get("namespace", namespace))) {
      log.warn(`namespace ${namespace} does not exist yet: run tasks/gitops/03-secrets.ts for its tenant, then this step again`);
      continue;
    }
    const copy: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "korthweb" } },
      type: secret.type ?? "Opaque",
      data: secret.data ?? {},
    };
    await kube.apply([copy], `Secret ${namespace}/${name} (copy of ${bootstrap.namespace}/${name})`);
  }
}
