// Step 6: routing at the ingress gateway. The Gateway (443 HTTPS SIMPLE,
// 11112 TLS SIMPLE with hosts ["*"]) and the VirtualServices come from
// helm/orthanc (manual/06-routing/routing.yaml); this step applies them and
// checks what they rely on: the certificate Secret, and gateway Service ports.
import { TaskError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import type { KubeObject } from "../lib/manifests.ts";
import { hostnames } from "../lib/settings.ts";
import { main, type Task } from "../lib/task.ts";
import { skippedForUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { loadBalancerAddress } from "../lib/kube-status.ts";
import { applyFile, crdsOfFiles, onlyObject } from "./apply.ts";
import { files, namespaces, releases, secrets } from "./layout.ts";

interface GatewaySpec {
  servers: { port: { number: number; protocol: string }; tls?: { credentialName?: string } }[];
}
interface ServiceSpec {
  spec?: { ports?: { port: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** Gateway server ports the gateway's Service does not expose. */
export function unexposedPorts(gateway: KubeObject, service: ServiceSpec): number[] {
  const exposed = new Set((service.spec?.ports ?? []).map((port) => port.port));
  return (gateway.spec as GatewaySpec).servers.map((server) => server.port.number).filter((port) => !exposed.has(port));
}

export const task: Task = {
  id: "manual/06-routing",
  cluster: true,
  title: "Routing: Gateway (443, 11112) and VirtualServices",
  summary:
    "Applies manual/06-routing/routing.yaml (rendered from helm/orthanc): a Gateway on the istio-ingress gateway with 443 (HTTPS, TLS terminated, web.<domain>) and 11112 (TLS terminated, hosts \"*\" for DICOM clients without SNI), both with the orthanc-tls certificate, and VirtualServices to Orthanc's 8042 (http) and 4242 (tcp). Then checks the certificate Secret exists and the gateway Service exposes every Gateway port, and prints the address.",
  flags: skipUpstreamFlag,
  crds: () => crdsOfFiles([files.routing], "tasks/manual/02-istio.ts"),
  run: async (ctx) => {
    const gateway = onlyObject(files.routing, "Gateway");
    await applyFile(ctx, files.routing);
    if (skippedForUpstream(ctx, "checking the certificate Secret and the gateway Service: cert-manager and the gateway chart were not installed")) return;
    if (ctx.dryRun) {
      log.info(`[dry-run] would check Secret ${secrets.tls.namespace}/${secrets.tls.name} has tls.crt and the Service ${releases.gateway.namespace}/${releases.gateway.release} exposes ${(gateway.spec as GatewaySpec).servers.map((s) => s.port.number).join(", ")}`);
      return;
    }
    const secret = await ctx.kube.get<{ data?: Record<string, string> }>("secret", secrets.tls.name, secrets.tls.namespace);
    if (!secret?.data?.["tls.crt"] || !secret.data["tls.key"]) {
      throw new TaskError(`Secret ${secrets.tls.namespace}/${secrets.tls.name} (the gateway's certificate) is missing or incomplete`, {
        hint: `run step 3 (node tasks/manual/03-cert-manager.ts); kubectl -n ${secrets.tls.namespace} describe certificate ${secrets.tls.name}`,
      });
    }
    log.ok(`certificate Secret ${secrets.tls.namespace}/${secrets.tls.name} present`);
    const service = await ctx.kube.get<ServiceSpec>("service", releases.gateway.release, namespaces.gateway);
    if (!service) throw new TaskError(`gateway Service ${namespaces.gateway}/${releases.gateway.release} not found`, { hint: "run step 2 (node tasks/manual/02-istio.ts)" });
    const missing = unexposedPorts(gateway, service);
    if (missing.length > 0) throw new TaskError(`gateway Service ${namespaces.gateway}/${releases.gateway.release} does not expose ${missing.join(", ")}`, { hint: "check service.ports in manual/02-istio/gateway.values.yaml, then re-run step 2" });
    log.ok("gateway Service exposes every Gateway port");
    const names = hostnames(ctx.settings.domain);
    const address = loadBalancerAddress(service);
    log.info(address
      ? `gateway address ${address}: point ${names.web} and ${names.dicom} at it (DNS or /etc/hosts)`
      : `no LoadBalancer address yet: kubectl -n ${namespaces.gateway} get service ${releases.gateway.release} -w`);
  },
};

if (import.meta.main) await main(task.id, [task]);
