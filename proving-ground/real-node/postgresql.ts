// The PostgreSQL STAND-IN on the real node (bitnami's chart cannot be fetched
// here): runs the helm approach's step 2 (namespace orthanc with Pod Security
// "restricted", the orthanc-db and orthanc-admin Secrets, kept when they exist)
// and applies the stand-in built from helm/postgresql.values.yaml (stand-ins.ts),
// then waits until it accepts connections. Then `make helm-install ARGS=--skip-upstream`.
//   node proving-ground/real-node/postgresql.ts [--uninstall]     (KUBECONFIG: the real-node cluster)
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import { toolsBinDir } from "../../tasks/lib/paths.ts";
import { log } from "../../tasks/lib/log.ts";
import { toYaml } from "../../tasks/lib/manifests.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { task as credentialsTask } from "../../tasks/helm/02-credentials.ts";
import { nodeLayout } from "./layout.ts";
import { postgresqlStandIn } from "./stand-ins.ts";

/** The PostgreSQL image cluster-up built, read back from what it recorded. */
export function builtPostgresqlImage(): string {
  const recorded = parse(readFileSync(nodeLayout().images, "utf8")) as Record<string, string>;
  const image = recorded.postgresql;
  if (!image) throw new Error(`${nodeLayout().images} names no postgresql image: run make cluster-up ARGS=--real-node`);
  return image;
}

const kubectl = join(toolsBinDir, "kubectl");

export const task: Task = {
  id: "real-node/postgresql",
  cluster: true,
  title: "PostgreSQL stand-in (for bitnami's chart) on the real node",
  summary:
    "STAND-IN for bitnami's PostgreSQL chart on the real-node cluster: the helm approach's namespace and Secrets (its step 2), then a StatefulSet of Debian's PostgreSQL 15 built here with what helm/postgresql.values.yaml configures (database and user orthanc, passwords from Secret orthanc-db, TLS, Service orthanc-db-postgresql, a PVC), and waits until it is ready.",
  flags: { uninstall: { type: "boolean", description: "remove the stand-in (its PVC too)" } },
  run: async (ctx) => {
    const namespace = defaults.namespaces.orthanc;
    const objects = postgresqlStandIn(builtPostgresqlImage());
    if (ctx.flags.uninstall) {
      await run(kubectl, ["delete", "--ignore-not-found", "--wait=true", "-f", "-"], { input: toYaml(objects) });
      await run(kubectl, ["-n", namespace, "delete", "pvc", "-l", "korthweb.io/stand-in=true", "--ignore-not-found", "--wait=true"]);
      log.ok("PostgreSQL stand-in removed");
      return;
    }
    await credentialsTask.run(ctx);
    await ctx.kube.apply(objects, "PostgreSQL stand-in (for bitnami's chart)");
    await run(kubectl, ["-n", namespace, "rollout", "status", `statefulset/${defaults.releases.postgresql}-postgresql`, "--timeout=300s"], { timeoutMs: 320_000 });
    log.ok(`PostgreSQL stand-in ready: Service ${namespace}/${defaults.releases.postgresql}-postgresql (TLS), data on a PVC`);
  },
};

if (import.meta.main) await main(task.id, [task]);
