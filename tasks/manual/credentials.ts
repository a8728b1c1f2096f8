// Secrets the manual steps generate when missing: random alphanumeric values
// (tasks/lib/secrets.ts), never printed and never in Git.
import { log, style } from "../lib/log.ts";
import type { TaskContext } from "../lib/task.ts";
import { ensureSecret, randomAlphanumeric } from "../lib/secrets.ts";
import { secrets } from "./layout.ts";

interface GeneratedSecret {
  namespace: string;
  name: string;
  keys: Record<string, () => string>;
}

export const generatedSecrets = {
  database: { ...secrets.database, keys: { password: () => randomAlphanumeric(), "postgres-password": () => randomAlphanumeric() } },
  admin: { ...secrets.admin, keys: { username: () => "admin", password: () => randomAlphanumeric() } },
  grafana: { ...secrets.grafana, keys: { "admin-user": () => "admin", "admin-password": () => randomAlphanumeric() } },
} satisfies Record<string, GeneratedSecret>;

export async function ensureGeneratedSecret(ctx: TaskContext, secret: GeneratedSecret): Promise<void> {
  const where = `${secret.namespace}/${secret.name}`;
  if (ctx.dryRun) {
    log.info(`${style.yellow("[dry-run]")} would create Secret ${where} (keys ${Object.keys(secret.keys).join(", ")}; random alphanumeric values) unless it exists`);
    return;
  }
  const outcome = await ensureSecret(ctx.kube, secret.namespace, { name: secret.name, keys: secret.keys });
  log.ok(`Secret ${where} ${outcome === "created" ? "created with random values" : "exists: kept as is"}`);
}
