// Step 3: cert-manager and the certificate chain: a self-signed issuer makes
// our CA, the CA issuer signs the gateway's certificate for web.<domain> and
// dicom.<domain>, whose Secret lands in the gateway's namespace.
import { waitForCondition, waitForCrds } from "../lib/kube-wait.ts";
import { log } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { skippedForUpstream, skipsUpstream, skipUpstream, skipUpstreamFlag } from "../lib/upstream.ts";
import { applyFile, readObjects, show, waitForWorkload } from "./apply.ts";
import { files, releases, secrets, workloads } from "./layout.ts";

export const certManagerCrds = ["certificates.cert-manager.io", "issuers.cert-manager.io", "clusterissuers.cert-manager.io"];

export const task: Task = {
  id: "manual/03-cert-manager",
  cluster: true,
  title: "cert-manager and the CA chain (gateway certificate)",
  summary:
    "Creates namespace cert-manager, installs cert-manager's chart at the pinned version (CRDs included), then applies manual/03-cert-manager/ca-chain.yaml: SelfSigned ClusterIssuer → CA Certificate (isCA) → CA ClusterIssuer → the leaf Certificate for web.<domain> and dicom.<domain> in istio-ingress (Secret orthanc-tls, with the CA in ca.crt). Waits until each is Ready.",
  flags: skipUpstreamFlag,
  run: async (ctx) => {
    await applyFile(ctx, files.certManagerNamespace);
    if (skipsUpstream(ctx)) {
      await skipUpstream(ctx, "cert-manager", certManagerCrds);
    } else {
      await ctx.helm.upgradeInstall(releases.certManager);
      await waitForCrds(ctx.kube, certManagerCrds, ctx.settings.timeoutSeconds);
      for (const workload of workloads.certManager) await waitForWorkload(ctx, workload);
    }
    // The webhook Deployment is Ready a little before its CA bundle is injected.
    await applyFile(ctx, files.caChain, { retryWebhook: true });
    if (skippedForUpstream(ctx, "waiting for the issuers and certificates to be Ready: no cert-manager issues them")) return;
    for (const object of readObjects(files.caChain)) {
      const namespace = typeof object.metadata?.namespace === "string" ? object.metadata.namespace : undefined;
      await waitForCondition(ctx.kube, String(object.kind), String(object.metadata?.name), namespace, ctx.settings.timeoutSeconds);
    }
    if (!ctx.dryRun) log.ok(`the gateway's certificate is in Secret ${secrets.tls.namespace}/${secrets.tls.name} (CA: its ca.crt), from ${show(files.caChain)}`);
  },
};

if (import.meta.main) await main(task.id, [task]);
