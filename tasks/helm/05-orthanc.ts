// Step 5: the orthanc chart (helm/orthanc), with the settings' domain and the
// names of the releases above; --values adds the user's own values file. In
// --dry-run the rendered manifests are printed (Secret data redacted).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { log, style } from "../lib/log.ts";
import { toYaml, parseManifests, type KubeObject } from "../lib/manifests.ts";
import { crdsOf } from "../lib/crds.ts";
import type { ReleaseOptions } from "../lib/helm.ts";
import { main, type Task, type TaskContext } from "../lib/task.ts";
import { renderApiVersions } from "../validate/sources.ts";
import { requireSecrets } from "./02-credentials.ts";
import { credentialSecrets, orthancRelease } from "./releases.ts";

/** Secrets with their values replaced, so a plan can be printed and shared. */
export function redactSecrets(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    if (object.kind !== "Secret") return object;
    const redact = (data: unknown) =>
      data && typeof data === "object" ? Object.fromEntries(Object.keys(data).map((key) => [key, "<redacted>"])) : data;
    return { ...object, ...(object.data ? { data: redact(object.data) } : {}), ...(object.stringData ? { stringData: redact(object.stringData) } : {}) };
  });
}

/** The release as the settings and --values FILE describe it. */
function releaseWithValues(ctx: TaskContext): ReleaseOptions {
  const release = orthancRelease(ctx.settings);
  const extra = ctx.flags.values;
  if (typeof extra === "string") {
    const file = resolve(extra);
    if (!existsSync(file)) throw new TaskError(`--values ${extra}: no such file`, { code: "usage" });
    release.valuesFiles = [file];
  }
  return release;
}

/** What the chart renders with those values; malformed values fail here, naming the field, before anything is applied. */
async function renderOrthanc(ctx: TaskContext): Promise<KubeObject[]> {
  const release = releaseWithValues(ctx);
  let rendered: string;
  try {
    rendered = await ctx.helm.template({ ...release, apiVersions: renderApiVersions });
  } catch (error) {
    const detail = (error as Error).message.replace(/^helm template failed \(exit \d+\):\s*/, "");
    throw new TaskError(`helm/orthanc refuses these values${typeof ctx.flags.values === "string" ? ` (--values ${ctx.flags.values})` : ""}:\n    ${detail}`, {
      code: "invalidValues",
      hint: "fix the value named above (docs/helm.md lists every value); nothing was installed",
    });
  }
  return parseManifests(rendered, "helm template helm/orthanc").map((item) => item.object);
}

export const task: Task = {
  id: "helm/05-orthanc",
  cluster: true,
  title: "Orthanc (helm/orthanc: routes, certificate, policies)",
  summary:
    "Installs or upgrades helm/orthanc as release orthanc: the Orthanc Deployment with its configuration, the IngressRoute (443) and IngressRouteTCP (11112, HostSNI(`*`)), a TLSOption (TLS ≥ 1.2) and the default TLSStore, a self-signed CA and certificate for web.<domain> and dicom.<domain> (kept across upgrades), NetworkPolicy, PDB. Add your own values with --values FILE.",
  flags: { values: { type: "string", description: "extra values file for helm/orthanc (see docs/helm.md)" } },
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
