// Step 7: what was deployed and how to use it: endpoints (with the ingress
// address when the LoadBalancer has one), how to fetch the CA and the
// credentials, and the next command.
import { loadBalancerAddress, type LoadBalancerStatus } from "../lib/kube-status.ts";
import { hostnames, type Settings } from "../lib/settings.ts";
import { log, style } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { credentialSecrets } from "./releases.ts";

export function summaryLines(settings: Settings, address: string | undefined, dryRun = false): string[] {
  const names = hostnames(settings.domain);
  const ns = settings.namespaces.orthanc;
  const release = settings.releases.orthanc;
  const shown = address ?? "<address pending>";
  return [
    style.bold(dryRun ? "Orthanc would be reachable here (dry run):" : "Orthanc is deployed (helm approach)."),
    "",
    `  Web (HTTPS)     https://${names.web}/`,
    `  DICOM (TLS)     ${names.dicom}:11112   called AE title ORTHANC, clients need no SNI`,
    `  Ingress         Traefik LoadBalancer ${settings.namespaces.traefik}/${settings.releases.traefik}: ${shown}`,
    address
      ? `  Name resolution add to /etc/hosts (or DNS):  ${address} ${names.web} ${names.dicom}`
      : `  Name resolution no LoadBalancer address yet: kubectl -n ${settings.namespaces.traefik} get service ${settings.releases.traefik} -w (or port-forward: kubectl -n ${settings.namespaces.traefik} port-forward service/${settings.releases.traefik} 8443:443 11112:11112)`,
    "",
    "  CA certificate (trust it in your DICOM client and browser):",
    `    kubectl -n ${ns} get configmap ${release}-ca -o jsonpath='{.data.ca\\.crt}' > korthweb-ca.crt`,
    "  Orthanc user and password:",
    `    kubectl -n ${ns} get secret ${credentialSecrets.admin} -o jsonpath='{.data.username}' | base64 -d; echo`,
    `    kubectl -n ${ns} get secret ${credentialSecrets.admin} -o jsonpath='{.data.password}' | base64 -d; echo`,
    "  In-cluster check (DICOM C-ECHO over TLS + HTTPS through Traefik):",
    `    helm test ${release} -n ${ns} --logs`,
    "",
    `Next: ${style.bold("make smoke")}   (end-to-end: TLS on 443 and 11112, C-STORE and read-back)`,
  ];
}

export const task: Task = {
  id: "helm/07-summary",
  cluster: true,
  title: "Summary: endpoints, CA, credentials, next step",
  summary: "Prints the endpoints with Traefik's LoadBalancer address, the kubectl commands that fetch the CA certificate and the Orthanc credentials, and the next command (make smoke).",
  run: async (ctx) => {
    const service = await ctx.kube.get<LoadBalancerStatus>("service", ctx.settings.releases.traefik, ctx.settings.namespaces.traefik);
    for (const line of summaryLines(ctx.settings, loadBalancerAddress(service), ctx.dryRun)) log.plain(line);
  },
};

if (import.meta.main) await main(task.id, [task]);
