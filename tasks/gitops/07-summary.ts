// Step 7: per tenant, what its users reach and how: the gateway's address,
// the hostnames, how to fetch the CA and the login; then the observability
// front ends and the next command.
import { log, style } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { loadBalancerAddress } from "../lib/kube-status.ts";
import { gitopsTree, selectedTenants } from "./context.ts";
import { pathFlag } from "./options.ts";
import type { TenantEndpoints } from "./tree.ts";
import { tenantEndpoints } from "./tree.ts";

export function tenantSummary(endpoints: TenantEndpoints, address: string | undefined): string[] {
  const gw = endpoints.gateway;
  const tls = endpoints.tlsSecret;
  const login = endpoints.credentialsSecret;
  if (endpoints.ingress === "none") {
    return [
      style.bold(`Tenant ${endpoints.tenant}`),
      `  No ingress      (ingress.provider none): kubectl -n ${endpoints.namespace} port-forward service/${endpoints.release} 8042 4242   (plain HTTP and DICOM)`,
      `  Login           kubectl -n ${login.namespace} get secret ${login.name} -o jsonpath='{.data.password}' | base64 -d; echo   (user: .data.username)`,
      "",
    ];
  }
  return [
    style.bold(`Tenant ${endpoints.tenant}`),
    `  Web (HTTPS)     https://${endpoints.web}/`,
    `  DICOM (TLS)     ${endpoints.dicom}:11112   called AE title ORTHANC, clients need no SNI`,
    `  Gateway         ${gw.namespace}/${gw.service} (its own LoadBalancer): ${address ?? "<address pending>"}`,
    address
      ? `  Name resolution ${address} ${endpoints.web} ${endpoints.dicom}   (DNS, or /etc/hosts)`
      : `  Name resolution no address yet: kubectl -n ${gw.namespace} get service ${gw.service} -w`,
    `  CA certificate  kubectl -n ${tls.namespace} get secret ${tls.name} -o jsonpath='{.data.ca\\.crt}' | base64 -d > ${endpoints.tenant}-ca.crt`,
    `  Login           kubectl -n ${login.namespace} get secret ${login.name} -o jsonpath='{.data.username}' | base64 -d; echo`,
    `                  kubectl -n ${login.namespace} get secret ${login.name} -o jsonpath='{.data.password}' | base64 -d; echo`,
    "",
  ];
}

export const platformSummary = [
  style.bold("Platform"),
  "  Grafana         kubectl -n monitoring port-forward service/kube-prometheus-stack-grafana 3000:80   (login: Secret monitoring/grafana-admin)",
  "  Kiali           kubectl -n istio-system port-forward service/kiali 20001:20001   (token: kubectl -n istio-system create token kiali-service-account)",
  "  Flux            kubectl get kustomizations.kustomize.toolkit.fluxcd.io,helmreleases.helm.toolkit.fluxcd.io -A",
  "",
];

export const task: Task = {
  id: "gitops/07-summary",
  cluster: true,
  title: "Summary per tenant",
  summary: "Prints, for each tenant, its hostnames, its gateway's LoadBalancer address, and the kubectl commands that fetch its CA certificate and Orthanc login; then how to reach Grafana, Kiali and Flux's status.",
  flags: pathFlag,
  run: async (ctx) => {
    const tree = await gitopsTree(ctx);
    log.plain(style.bold(ctx.dryRun ? "Would be deployed (dry run):" : "Deployed by Flux (gitops approach):"));
    log.plain("");
    for (const tenant of selectedTenants(ctx, tree)) {
      const endpoints = tenantEndpoints(tenant);
      if (!endpoints) continue;
      const service = endpoints.ingress === "none" ? undefined : await ctx.kube.get<Parameters<typeof loadBalancerAddress>[0]>("service", endpoints.gateway.service, endpoints.gateway.namespace);
      for (const line of tenantSummary(endpoints, loadBalancerAddress(service))) log.plain(line);
    }
    for (const line of platformSummary) log.plain(line);
  },
};

if (import.meta.main) await main(task.id, [task]);
