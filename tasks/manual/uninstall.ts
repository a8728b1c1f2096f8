// `make manual-uninstall`: removes what `make manual-install` created, newest
// step first. Data and credentials stay unless --purge (PURGE=1): the
// database volume and its password, the Orthanc and Grafana logins, the CA
// and the namespaces. CRDs stay (other software may use them).
import { log } from "../lib/log.ts";
import { requireNamespaceClaim } from "../lib/namespace-claim.ts";
import { preflight } from "../lib/preflight.ts";
import { main, type Task, type TaskContext } from "../lib/task.ts";
import { run } from "../lib/exec.ts";
import { deleteFile } from "./apply.ts";
import { checkIstioctl, installerFlag, istioInstaller } from "./istio-installer.ts";
import { files, namespaces, releases, secrets } from "./layout.ts";

const purging = (ctx: TaskContext) => ctx.flags.purge === true || process.env.PURGE === "1";

const purgeOnly = async (ctx: TaskContext, what: string, action: () => Promise<void>) => {
  if (purging(ctx)) await action();
  else log.info(`kept: ${what} (--purge or PURGE=1 deletes it)`);
};

const deleteNamespaces = async (ctx: TaskContext, names: readonly string[]) => {
  for (const name of names) await ctx.kube.delete("namespace", name);
};

const id = "manual/uninstall";

const checks: Task = {
  id,
  cluster: true,
  title: "Preflight: tools, kube context, cluster version",
  summary: "Checks kubectl, helm and the cluster, and that namespace orthanc is not the helm approach's, before removing anything.",
  flags: { ...installerFlag, purge: { type: "boolean", description: "also delete data, credentials, the CA and the namespaces [env PURGE=1]" } },
  run: async (ctx) => {
    await preflight(ctx.kube);
    await requireNamespaceClaim(ctx.kube, namespaces.app, "manual");
  },
};

const observability: Task = {
  id,
  cluster: true,
  title: "Remove Kiali, Prometheus, Grafana and the dashboards",
  summary: "Deletes the Kiali resource (its operator removes the server), the kiali-operator and kube-prometheus-stack releases, the scrape targets and the Orthanc dashboard.",
  run: async (ctx) => {
    await deleteFile(ctx.kube, files.kiali);
    await ctx.helm.uninstall(releases.kialiOperator.release, releases.kialiOperator.namespace);
    for (const path of [files.orthancDashboard, files.istioMonitors, files.orthancServiceMonitor]) await deleteFile(ctx.kube, path);
    await ctx.helm.uninstall(releases.kubePrometheusStack.release, releases.kubePrometheusStack.namespace);
    await purgeOnly(ctx, `Secret ${secrets.grafana.namespace}/${secrets.grafana.name} and namespaces ${namespaces.monitoring}, ${namespaces.kialiOperator}`, () =>
      deleteNamespaces(ctx, [namespaces.monitoring, namespaces.kialiOperator]));
  },
};

const security: Task = {
  id,
  cluster: true,
  title: "Remove the authorization policies and the mTLS policy",
  summary: "Deletes manual/07-security/*.yaml.",
  run: async (ctx) => {
    await deleteFile(ctx.kube, files.authorizationPolicies);
    await deleteFile(ctx.kube, files.peerAuthentication);
  },
};

const orthanc: Task = {
  id,
  cluster: true,
  title: "Remove routing, Orthanc and PostgreSQL (data kept unless --purge)",
  summary: "Deletes manual/06-routing and manual/05-orthanc objects (the backup volume orthanc-backups stays) and the orthanc-db release; with --purge also the backup and database volumes, the credential Secrets and the namespace.",
  run: async (ctx) => {
    await deleteFile(ctx.kube, files.routing);
    await deleteFile(ctx.kube, files.orthanc, { purge: purging(ctx) });
    await ctx.helm.uninstall(releases.postgresql.release, releases.postgresql.namespace);
    await purgeOnly(ctx, `the database volume, Secrets ${secrets.admin.name} and ${secrets.database.name}, namespace ${namespaces.app}`, async () => {
      const claims = await ctx.kube.list<{ metadata: { name: string } }>("persistentvolumeclaim", namespaces.app, `app.kubernetes.io/instance=${releases.postgresql.release}`);
      if (ctx.dryRun) log.info(`[dry-run] would delete the PersistentVolumeClaims labelled app.kubernetes.io/instance=${releases.postgresql.release} in ${namespaces.app}`);
      for (const claim of claims) await ctx.kube.delete("persistentvolumeclaim", claim.metadata.name, namespaces.app);
      await deleteNamespaces(ctx, [namespaces.app]);
    });
  },
};

const certificates: Task = {
  id,
  cluster: true,
  title: "Remove the CA chain and cert-manager",
  summary: "Deletes manual/03-cert-manager/ca-chain.yaml and the cert-manager release (its CRDs stay); with --purge also the CA and certificate Secrets and the namespace.",
  run: async (ctx) => {
    await deleteFile(ctx.kube, files.caChain);
    await ctx.helm.uninstall(releases.certManager.release, releases.certManager.namespace);
    await purgeOnly(ctx, `Secret ${secrets.tls.namespace}/${secrets.tls.name} and the CA (Secret ${namespaces.certManager}/korthweb-ca)`, async () => {
      await ctx.kube.delete("secret", secrets.tls.name, secrets.tls.namespace);
      await deleteNamespaces(ctx, [namespaces.certManager]);
    });
  },
};

const istio: Task = {
  id,
  cluster: true,
  title: "Remove the ingress gateway and Istio",
  summary: "Uninstalls the gateway, istiod, cni and base releases (or `istioctl uninstall` with ISTIO_INSTALLER=istioctl); with --purge also the namespaces.",
  flags: installerFlag,
  run: async (ctx) => {
    await ctx.helm.uninstall(releases.gateway.release, releases.gateway.namespace);
    if (istioInstaller(ctx.flags) === "istioctl") {
      const istioctl = await checkIstioctl(ctx.dryRun);
      const args = ["uninstall", "-f", files.istioOperator, "-y", ...(ctx.settings.kubeContext ? ["--context", ctx.settings.kubeContext] : [])];
      if (ctx.dryRun) log.info(`[dry-run] would run: istioctl ${args.join(" ")}`);
      else await run(istioctl, args);
    } else {
      for (const release of [releases.istiod, releases.istioCni, releases.istioBase]) await ctx.helm.uninstall(release.release, release.namespace);
    }
    await purgeOnly(ctx, `namespaces ${namespaces.gateway}, ${namespaces.istio}`, () => deleteNamespaces(ctx, [namespaces.gateway, namespaces.istio]));
    log.ok("the manual approach is uninstalled");
  },
};

export const uninstallSteps = [checks, observability, security, orthanc, certificates, istio];

if (import.meta.main) await main("manual-uninstall", uninstallSteps);
