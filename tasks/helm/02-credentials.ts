// Step 2: the Orthanc namespace (Pod Security "restricted" enforced) and the
// two credential Secrets, created only when missing so that re-running keeps
// the passwords the database was initialised with. Values are never printed.
import { TaskError } from "../lib/errors.ts";
import type { Kube } from "../lib/kube.ts";
import { log, style } from "../lib/log.ts";
import { approachLabel, requireNamespaceClaim } from "../lib/namespace-claim.ts";
import type { KubeObject } from "../lib/manifests.ts";
import { main, type Task } from "../lib/task.ts";
import { ensureSecret, randomAlphanumeric, type SecretSpec } from "../lib/secrets.ts";
import { credentialSecrets } from "./releases.ts";

export const namespaceObject = (name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: {
    name,
    labels: {
      [approachLabel]: "helm",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
    },
  },
});

export const secretSpecs: SecretSpec[] = [
  { name: credentialSecrets.admin, keys: { username: () => "admin", password: () => randomAlphanumeric() } },
  { name: credentialSecrets.database, keys: { password: () => randomAlphanumeric(), "postgres-password": () => randomAlphanumeric() } },
];

/** Steps that read the Secrets call this first: a missing Secret would leave pods waiting forever. */
export async function requireSecrets(kube: Kube, namespace: string, names: readonly string[]): Promise<void> {
  if (kube.dryRun) return;
  for (const name of names) {
    if (!(await kube.get("secret", name, namespace))) {
      throw new TaskError(`Secret ${namespace}/${name} does not exist`, { hint: "run node tasks/helm/02-credentials.ts first (make helm-install runs every step in order)" });
    }
  }
}

export const task: Task = {
  id: "helm/02-credentials",
  cluster: true,
  title: "Namespace and credential Secrets",
  summary:
    "Creates the Orthanc namespace (labelled korthweb.io/approach=helm; stops if the manual approach owns it) with Pod Security \"restricted\" enforced, then the Secrets orthanc-admin (username, password: the Orthanc user) and orthanc-db (password, postgres-password: PostgreSQL) with random alphanumeric values, only when they do not exist yet. Values are never printed; fetch them with kubectl (see the summary step).",
  run: async (ctx) => {
    const namespace = ctx.settings.namespaces.orthanc;
    await requireNamespaceClaim(ctx.kube, namespace, "helm");
    await ctx.kube.apply([namespaceObject(namespace)], `namespace ${namespace}`);
    for (const spec of secretSpecs) {
      if (ctx.dryRun) {
        log.info(`${style.yellow("[dry-run]")} would create Secret ${namespace}/${spec.name} (keys ${Object.keys(spec.keys).join(", ")}; random alphanumeric values) unless it exists`);
        continue;
      }
      const outcome = await ensureSecret(ctx.kube, namespace, spec);
      log.ok(`Secret ${namespace}/${spec.name} ${outcome === "created" ? "created with random values" : "exists: kept as is"}`);
    }
  },
};

if (import.meta.main) await main(task.id, [task]);
