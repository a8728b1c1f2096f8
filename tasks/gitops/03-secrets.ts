// Step 3: the Secrets Git must not hold, created out of band before Flux
// deploys what reads them: per tenant, Orthanc's login and the database
// passwords; for the platform, Grafana's admin login. Random alphanumeric,
// created only when missing (re-running keeps the passwords the database was
// initialised with), never printed. Their namespaces are applied first, as
// Git defines them (Flux adopts them later).
import { log, style } from "../lib/log.ts";
import type { KubeObject } from "../lib/manifests.ts";
import { main, type Task } from "../lib/task.ts";
import { ensureSecret, randomAlphanumeric } from "../lib/secrets.ts";
import { gitopsTree, selectedTenants } from "./context.ts";
import { pathFlag } from "./options.ts";
import { nameOf, orthancRelease, record, type FluxTree, type Tenant } from "./tree.ts";

export interface CredentialSecret {
  namespace: string;
  name: string;
  /** key → how to make its value */
  keys: Record<string, () => string>;
}

const textOr = (value: unknown, fallback: string): string => (typeof value === "string" && value !== "" ? value : fallback);

/** The tenant's Secrets, named and keyed as its Orthanc and PostgreSQL values expect (chart defaults otherwise). */
export function tenantSecrets(tenant: Tenant): CredentialSecret[] {
  const orthanc = orthancRelease(tenant);
  if (!orthanc) return [];
  const auth = record(orthanc.values.auth);
  const database = record(orthanc.values.database);
  const postgresql = tenant.releases.find((release) => textOr(record(release.values.auth).existingSecret, "") === textOr(database.existingSecret, "orthanc-db"));
  const adminKey = textOr(record(record(postgresql?.values.auth).secretKeys).adminPasswordKey, "postgres-password");
  return [
    {
      namespace: orthanc.releaseNamespace,
      name: textOr(auth.existingSecret, "orthanc-admin"),
      keys: { [textOr(auth.usernameKey, "username")]: () => "admin", [textOr(auth.passwordKey, "password")]: () => randomAlphanumeric() },
    },
    {
      namespace: orthanc.releaseNamespace,
      name: textOr(database.existingSecret, "orthanc-db"),
      keys: { [textOr(database.passwordKey, "password")]: () => randomAlphanumeric(), [adminKey]: () => randomAlphanumeric() },
    },
  ];
}

/** Grafana's admin login, where the monitoring release's values look for it. */
export function platformSecrets(tree: FluxTree): CredentialSecret[] {
  return tree.releases.flatMap((release) => {
    const admin = record(record(release.values.grafana).admin);
    if (typeof admin.existingSecret !== "string") return [];
    return [{
      namespace: release.releaseNamespace,
      name: admin.existingSecret,
      keys: { [textOr(admin.userKey, "admin-user")]: () => "admin", [textOr(admin.passwordKey, "admin-password")]: () => randomAlphanumeric() },
    }];
  });
}

const namespacesNamed = (tree: FluxTree, names: readonly string[]): KubeObject[] =>
  tree.objects.filter((o) => o.apiVersion === "v1" && o.kind === "Namespace" && names.includes(nameOf(o)));

export const task: Task = {
  id: "gitops/03-secrets",
  cluster: true,
  title: "Namespaces and Secrets kept out of Git",
  summary:
    "For each tenant: its namespaces (as Git defines them), then the Secrets orthanc-admin (username, password) and orthanc-db (password, postgres-password) in the tenant's namespace; " +
    "for the platform: monitoring/grafana-admin. Values are random alphanumeric, created only when the Secret is missing, and never printed.",
  flags: pathFlag,
  run: async (ctx) => {
    const tree = await gitopsTree(ctx);
    const secrets = [...selectedTenants(ctx, tree).flatMap(tenantSecrets), ...platformSecrets(tree)];
    const namespaces = [...new Set(secrets.map((secret) => secret.namespace))];
    const tenantNamespaces = selectedTenants(ctx, tree).flatMap((tenant) => tenant.namespaces);
    await ctx.kube.apply(namespacesNamed(tree, [...new Set([...tenantNamespaces, ...namespaces])]), "namespaces");
    for (const secret of secrets) {
      const where = `${secret.namespace}/${secret.name}`;
      if (ctx.dryRun) {
        log.info(`${style.yellow("[dry-run]")} would create Secret ${where} (keys ${Object.keys(secret.keys).join(", ")}; random alphanumeric values) unless it exists`);
        continue;
      }
      const outcome = await ensureSecret(ctx.kube, secret.namespace, secret);
      log.ok(`Secret ${where} ${outcome === "created" ? "created with random values" : "exists: kept as is"}`);
    }
  },
};

if (import.meta.main) await main(task.id, [task]);
