// Step 8: prove each tenant works end to end from outside, like a modality
// and a user: the smoke suite (smoke/cli.ts) against the tenant's gateway,
// certificate and login. One report per tenant under .work/smoke/.
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { log, style } from "../lib/log.ts";
import { fromRoot, repoRoot, workDir } from "../lib/paths.ts";
import { main, type Task } from "../lib/task.ts";
import { skippedForUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { gitopsTree, selectedTenants } from "./context.ts";
import { pathFlag } from "./options.ts";
import { tenantEndpoints, type TenantEndpoints } from "./tree.ts";

export const smokeCli = fromRoot("smoke", "cli.ts");

/** The smoke CLI's arguments for one tenant: everything named explicitly, nothing guessed from the helm approach's defaults. */
export function smokeArgs(endpoints: TenantEndpoints, context: string | undefined, others: readonly TenantEndpoints[] = []): string[] {
  // Mutual TLS on 11112: the tenant's own smoke client certificate and modality CA (next to its gateway),
  // and another tenant's certificate, which this tenant's gateway must refuse.
  const gatewayNamespace = endpoints.tlsSecret.namespace;
  const foreign = others.find((other) => other.tenant !== endpoints.tenant);
  return [
    "--target", "kube",
    "--tenant", endpoints.tenant,
    "--namespace", endpoints.namespace,
    "--release", endpoints.release,
    "--gateway-service", `${endpoints.gateway.namespace}/${endpoints.gateway.service}`,
    "--ca-secret", `${endpoints.tlsSecret.namespace}/${endpoints.tlsSecret.name}`,
    "--credentials-secret", `${endpoints.credentialsSecret.namespace}/${endpoints.credentialsSecret.name}`,
    "--web-name", endpoints.web,
    "--dicom-name", endpoints.dicom,
    "--client-secret", `${gatewayNamespace}/${endpoints.release}-smoke-client`,
    "--modality-ca-secret", `${gatewayNamespace}/${endpoints.release}-modality-ca`,
    ...(foreign ? ["--foreign-client-secret", `${foreign.tlsSecret.namespace}/${foreign.release}-smoke-client`] : []),
    // The other tenant's login must not open this tenant's Orthanc.
    ...(foreign ? ["--foreign-credentials-secret", `${foreign.credentialsSecret.namespace}/${foreign.credentialsSecret.name}`] : []),
    // A tenant without ingress (the real-node cluster folder: no Istio data plane) is reached through kubectl port-forward.
    ...(endpoints.ingress === "none" ? ["--via", "port-forward"] : []),
    "--report", join(workDir, "smoke", `gitops-${endpoints.tenant}.json`),
    ...(context ? ["--context", context] : []),
  ];
}

export const task: Task = {
  id: "gitops/08-smoke",
  cluster: true,
  title: "Smoke test each tenant",
  summary:
    "Runs the smoke suite (TLS on 443 and 11112, REST with and without login, C-ECHO, C-STORE and read-back) against each tenant through its own gateway, " +
    "with its CA and login read from its Secrets. Skip with --skip-smoke (e.g. when the load balancer address is not reachable from here).",
  flags: { ...pathFlag, ...skipUpstreamFlag, "skip-smoke": { type: "boolean", description: "do not run the smoke suite" } },
  run: async (ctx) => {
    if (skippedForUpstream(ctx, "running the smoke suite: without Istio, cert-manager and PostgreSQL there is no traffic to test")) return;
    if (ctx.flags["skip-smoke"] === true) {
      log.info("skipped (--skip-smoke); run it later: make smoke ARGS=\"--target kube --tenant NAME …\" (see the commands printed with --dry-run)");
      return;
    }
    if (!existsSync(smokeCli)) throw new TaskError(`${relative(repoRoot, smokeCli)} is missing`, { hint: "update the checkout, or pass --skip-smoke" });
    const tree = await gitopsTree(ctx);
    const failed: string[] = [];
    const everyTenant = tree.tenants.map(tenantEndpoints).filter((e): e is TenantEndpoints => e !== undefined);
    for (const tenant of selectedTenants(ctx, tree)) {
      const endpoints = tenantEndpoints(tenant);
      if (!endpoints) continue;
      const args = [smokeCli, ...smokeArgs(endpoints, ctx.settings.kubeContext, everyTenant)];
      if (ctx.dryRun) {
        log.info(`${style.yellow("[dry-run]")} would run: node ${[relative(repoRoot, smokeCli), ...args.slice(1)].join(" ")}`);
        continue;
      }
      log.info(style.bold(`tenant ${tenant.name}`));
      const result = await run(process.execPath, args, { allowFailure: true });
      for (const line of `${result.stderr}${result.stdout}`.trimEnd().split("\n")) log.plain(line);
      if (result.exitCode !== 0) failed.push(tenant.name);
    }
    if (failed.length > 0) throw new TaskError(`smoke failed for ${failed.join(", ")}`, { hint: "each failed row above names its likely cause; the reports are in .work/smoke/" });
  },
};

if (import.meta.main) await main(task.id, [task]);
