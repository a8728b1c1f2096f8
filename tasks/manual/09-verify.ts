// Step 9: verify. Every application pod carries its Istio proxy (else mutual
// TLS and the policies do not cover it), then the smoke suite checks the
// deployment end to end through the gateway: TLS on 443 and 11112 against our
// CA, REST with and without credentials, DICOM C-ECHO and C-STORE, read-back.
import { TaskError } from "../lib/errors.ts";
import { log, style } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { skippedForUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { smokeTask } from "../../smoke/cli.ts";
import { targetFlags } from "../../smoke/discover.ts";
import { namespaces, releases, secrets } from "./layout.ts";

interface Pod {
  metadata: { name: string };
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[] };
  status?: { phase?: string };
}

/** Running pods without an istio-proxy container (a sidecar, or a native sidecar among init containers). */
export function podsWithoutSidecar(pods: readonly Pod[]): string[] {
  const hasProxy = (pod: Pod) => [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === "istio-proxy");
  return pods.filter((pod) => pod.status?.phase === "Running" && !hasProxy(pod)).map((pod) => pod.metadata.name);
}

/** Where the smoke suite finds this deployment, unless the user says otherwise. */
export const smokeDefaults = {
  target: "kube",
  "gateway-service": `${namespaces.gateway}/${releases.gateway.release}`,
  "ca-secret": `${secrets.tls.namespace}/${secrets.tls.name}`,
  // Mutual TLS on 11112: step 3 makes the smoke client's certificate and the modality CA next to the gateway.
  "client-secret": `${secrets.tls.namespace}/orthanc-smoke-client`,
  "modality-ca-secret": `${secrets.tls.namespace}/orthanc-modality-ca`,
};

export const task: Task = {
  id: "manual/09-verify",
  cluster: true,
  title: "Verify: sidecars present, smoke suite through the gateway",
  summary:
    "Checks that every running pod in namespace orthanc has its istio-proxy, then runs the smoke suite (smoke/cli.ts) against the istio-ingress gateway with the CA from Secret istio-ingress/orthanc-tls and the login from Secret orthanc/orthanc-admin. Pass --host (and --https-port/--dicom-port) when the gateway has no LoadBalancer address, e.g. through a port-forward.",
  flags: { ...targetFlags, ...skipUpstreamFlag },
  run: async (ctx) => {
    if (skippedForUpstream(ctx, "verifying: without Istio there are no sidecars, no gateway and no traffic to test")) return;
    const flags = { ...smokeDefaults, ...ctx.flags };
    if (ctx.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would check every running pod in ${namespaces.app} has an istio-proxy container`);
      const args = Object.entries(smokeDefaults).map(([key]) => `--${key} ${String(flags[key as keyof typeof smokeDefaults])}`);
      log.info(`${style.yellow("[dry-run]")} would run the smoke suite: node smoke/cli.ts ${args.join(" ")}`);
      return;
    }
    const pods = await ctx.kube.list<Pod>("pods", namespaces.app);
    const bare = podsWithoutSidecar(pods);
    if (bare.length > 0) {
      throw new TaskError(`pods without an Istio proxy in ${namespaces.app}: ${bare.join(", ")}`, {
        hint: `they started before sidecar injection was on: kubectl -n ${namespaces.app} rollout restart deployment/orthanc statefulset/orthanc-db-postgresql`,
      });
    }
    log.ok(`${pods.length} pods in ${namespaces.app}, each with its Istio proxy`);
    await smokeTask.run({ ...ctx, flags });
  },
};

if (import.meta.main) await main(task.id, [task]);
