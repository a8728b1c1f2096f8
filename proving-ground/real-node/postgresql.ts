// The PostgreSQL STAND-IN on the real node (bitnami's chart cannot be fetched
// here), for any of the three approaches: first the approach's own step that
// makes the namespace and the database Secret (helm: step 2; manual: step 4,
// whose bitnami chart is the part this replaces; gitops: step 3, for each
// tenant), then the stand-in built from the values that approach gives
// bitnami's chart (stand-ins.ts), in the namespace and under the release name
// it uses, and waits until it accepts connections. Then the approach's install
// with --skip-upstream.
//   node proving-ground/real-node/postgresql.ts [--approach helm|manual|gitops] [--tenants bhc,mhr] [--uninstall]
//   (KUBECONFIG: the real-node cluster)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { fromRoot, toolsBinDir } from "../../tasks/lib/paths.ts";
import { log } from "../../tasks/lib/log.ts";
import { toYaml } from "../../tasks/lib/manifests.ts";
import { defaults, type Settings } from "../../tasks/lib/settings.ts";
import { main, type Task, type TaskContext } from "../../tasks/lib/task.ts";
import { record, text } from "../../tasks/lib/values.ts";
import { task as helmCredentials } from "../../tasks/helm/02-credentials.ts";
import { valuesFiles as helmValuesFiles } from "../../tasks/helm/releases.ts";
import { task as manualPostgresql } from "../../tasks/manual/04-postgresql.ts";
import { releases as manualReleases } from "../../tasks/manual/layout.ts";
import { task as gitopsSecrets } from "../../tasks/gitops/03-secrets.ts";
import { gitopsTree, selectedTenants } from "../../tasks/gitops/context.ts";
import { orthancRelease, type Tenant } from "../../tasks/gitops/tree.ts";
import { nodeLayout } from "./layout.ts";
import { mergeValues, postgresqlStandIn, standInLabel, type PostgresqlValues } from "./stand-ins.ts";

/** The PostgreSQL image cluster-up built, read back from what it recorded. */
export function builtPostgresqlImage(): string {
  const recorded = parse(readFileSync(nodeLayout().images, "utf8")) as Record<string, string>;
  const image = recorded.postgresql;
  if (!image) throw new Error(`${nodeLayout().images} names no postgresql image: run make cluster-up ARGS=--real-node`);
  return image;
}

const kubectl = join(toolsBinDir, "kubectl");

export const approaches = ["helm", "manual", "gitops"] as const;
export type StandInApproach = (typeof approaches)[number];

/** One PostgreSQL that an approach would install with bitnami's chart: where, under which release, with which values. */
export interface DatabasePlacement {
  what: string;
  namespace: string;
  release: string;
  values: PostgresqlValues;
}

const readYaml = (file: string) => parse(readFileSync(file, "utf8")) as Record<string, unknown>;

/** Settings as postgresqlStandIn reads them: the namespace and the release the approach uses. */
export const placementSettings = (placement: DatabasePlacement): Settings => ({
  ...defaults,
  namespaces: { ...defaults.namespaces, orthanc: placement.namespace },
  releases: { ...defaults.releases, postgresql: placement.release },
});

/** The gitops tenant's PostgreSQL HelmRelease: the one whose Secret is the one its Orthanc release reads (as step 3 finds it). */
export function tenantDatabase(tenant: Tenant): DatabasePlacement {
  const orthanc = orthancRelease(tenant);
  if (!orthanc) throw new TaskError(`tenant ${tenant.name} has no HelmRelease of ./helm/orthanc`, { code: "usage" });
  const database = record(orthanc.values.database);
  const secret = text(database.existingSecret) ?? "orthanc-db";
  const release = tenant.releases.find((item) => text(record(item.values.auth).existingSecret) === secret);
  if (!release) throw new TaskError(`tenant ${tenant.name}: no PostgreSQL HelmRelease reads Secret ${secret}, the one its Orthanc release uses`, { code: "usage" });
  const service = `${release.releaseName}-postgresql`;
  const host = text(database.host) ?? readChartDatabaseHost();
  if (host !== service) {
    throw new TaskError(`tenant ${tenant.name}: Orthanc connects to ${host}, but its PostgreSQL release ${release.releaseName} serves ${service}`, { code: "usage" });
  }
  return { what: `tenant ${tenant.name}`, namespace: release.releaseNamespace, release: release.releaseName, values: release.values as unknown as PostgresqlValues };
}

function readChartDatabaseHost(): string {
  const host = text(record(readYaml(fromRoot("helm", "orthanc", "values.yaml")).database).host);
  if (!host) throw new Error("helm/orthanc/values.yaml has no database.host");
  return host;
}

/** Where each approach's PostgreSQL goes and the values it gives bitnami's chart. */
export async function placements(ctx: TaskContext, approach: StandInApproach): Promise<DatabasePlacement[]> {
  if (approach === "helm") {
    return [{ what: "the helm approach", namespace: ctx.settings.namespaces.orthanc, release: ctx.settings.releases.postgresql, values: readYaml(helmValuesFiles.postgresql) as unknown as PostgresqlValues }];
  }
  if (approach === "manual") {
    const release = manualReleases.postgresql;
    return [{ what: "the manual approach", namespace: release.namespace, release: release.release, values: mergeValues(release.valuesFiles.map(readYaml)) as unknown as PostgresqlValues }];
  }
  return selectedTenants(ctx, await gitopsTree(ctx)).map(tenantDatabase);
}

/** The approach's own step that creates the namespace and the database Secret the stand-in reads. */
async function prepare(ctx: TaskContext, approach: StandInApproach): Promise<void> {
  if (approach === "helm") return helmCredentials.run(ctx);
  // Step 4 with its chart skipped: this stand-in replaces exactly that chart.
  if (approach === "manual") return manualPostgresql.run({ ...ctx, flags: { ...ctx.flags, "skip-upstream": true } });
  return gitopsSecrets.run(ctx);
}

function parseApproach(raw: unknown): StandInApproach {
  const value = raw ?? "helm";
  if (!approaches.includes(value as StandInApproach)) throw new TaskError(`invalid --approach "${String(value)}": expected one of ${approaches.join(", ")}`, { code: "usage" });
  return value as StandInApproach;
}

export const task: Task = {
  id: "real-node/postgresql",
  cluster: true,
  title: "PostgreSQL stand-in (for bitnami's chart) on the real node",
  summary:
    "STAND-IN for bitnami's PostgreSQL chart on the real-node cluster, for the approach named by --approach (default helm): that approach's own step for the namespace and the database Secret " +
    "(helm: step 2; manual: step 4 without its chart; gitops: step 3), then a StatefulSet of Debian's PostgreSQL 15 built here with what the approach's values give the chart " +
    "(database and user orthanc, passwords from Secret orthanc-db, TLS, Service <release>-postgresql, a PVC; the manual approach's service account; for gitops one per tenant, " +
    "from the tenant's HelmRelease), and waits until it is ready.",
  flags: {
    approach: { type: "string", description: `whose PostgreSQL to stand in for: ${approaches.join(", ")} (default helm)` },
    uninstall: { type: "boolean", description: "remove the stand-in (its PVC too)" },
  },
  validate: async (ctx) => {
    parseApproach(ctx.flags.approach);
  },
  run: async (ctx) => {
    const approach = parseApproach(ctx.flags.approach);
    const image = builtPostgresqlImage();
    const where = await placements(ctx, approach);
    if (ctx.flags.uninstall) {
      for (const placement of where) {
        await run(kubectl, ["delete", "--ignore-not-found", "--wait=true", "-f", "-"], { input: toYaml(postgresqlStandIn(image, placement.values, placementSettings(placement))) });
        const selector = Object.entries(standInLabel).map(([key, value]) => `${key}=${value}`).join(",");
        await run(kubectl, ["-n", placement.namespace, "delete", "pvc", "-l", selector, "--ignore-not-found", "--wait=true"]);
        log.ok(`PostgreSQL stand-in of ${placement.what} removed (${placement.namespace}/${placement.release}-postgresql)`);
      }
      return;
    }
    await prepare(ctx, approach);
    for (const placement of where) {
      await ctx.kube.apply(postgresqlStandIn(image, placement.values, placementSettings(placement)), `PostgreSQL stand-in (for bitnami's chart) of ${placement.what}`);
    }
    for (const placement of where) {
      const service = `${placement.release}-postgresql`;
      await run(kubectl, ["-n", placement.namespace, "rollout", "status", `statefulset/${service}`, "--timeout=300s"], { timeoutMs: 320_000 });
      log.ok(`PostgreSQL stand-in of ${placement.what} ready: Service ${placement.namespace}/${service} (TLS), data on a PVC`);
    }
  },
};

if (import.meta.main) await main(task.id, [task]);
