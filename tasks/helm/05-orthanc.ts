// Step 5: the orthanc chart (helm/orthanc), with the settings' domain and the
// names of the releases above; --values adds the user's own values file. In
// --dry-run the rendered manifests are printed (Secret data redacted).
import { log, style } from "../lib/log.ts";
import { toYaml, type KubeObject } from "../lib/manifests.ts";
import { crdsOf } from "../lib/crds.ts";
import { main, type Task } from "../lib/task.ts";
import { requireSecrets } from "./02-credentials.ts";
import { releaseWithValues, renderOrthanc, valuesFlag } from "./orthanc-render.ts";
import { credentialSecrets } from "./releases.ts";

/** Secrets with their values replaced, so a plan can be printed and shared. */
export function redactSecrets(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    if (object.kind !== "Secret") return object;
    const redact = (data: unknown) =>
      data && typeof data === "object" ? Object.fromEntries(Object.keys(data).map((key) => [key, "<redacted>"])) : data;
    return { ...object, ...(object.data ? { data: redact(object.data) } : {}), ...(object.stringData ? { stringData: redact(object.stringData) } : {}) };
  });
}

export const task: Task = {
  id: "helm/05-orthanc",
  cluster: true,
  title: "Orthanc (helm/orthanc: routes, certificate, policies)",
  summary:
    "Installs or upgrades helm/orthanc as release orthanc: the Orthanc Deployment with its configuration, the IngressRoute (443) and IngressRouteTCP (11112, HostSNI(`*`)), a TLSOption (TLS ≥ 1.2) and the default TLSStore, a self-signed CA and certificate for web.<domain> and dicom.<domain> (kept across upgrades), NetworkPolicy, PDB. Add your own values with --values FILE.",
  flags: valuesFlag,
  validate: async (ctx) => {
    await renderOrthanc(ctx);
  },
  crds: async (ctx) => ({
    names: crdsOf(await renderOrthanc(ctx)),
    hint: "run tasks/helm/03-traefik.ts first (it installs Traefik and its CRDs), or make helm-install",
  }),
  run: async (ctx) => {
    const release = releaseWithValues(ctx);
    await requireSecrets(ctx.kube, release.namespace, Object.values(credentialSecrets));
    if (ctx.dryRun) {
      const objects = await renderOrthanc(ctx);
      log.info(`${style.yellow("[dry-run]")} helm/orthanc renders ${objects.length} objects (Secret data redacted):`);
      log.plain(toYaml(redactSecrets(objects)).trimEnd().split("\n").map((line) => `    ${line}`).join("\n"));
    }
    await ctx.helm.upgradeInstall(release);
  },
};

if (import.meta.main) await main(task.id, [task]);
