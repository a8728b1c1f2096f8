// The orthanc release as the settings and the user's --values FILE describe
// it, and what the chart renders from that: shared by the preflight (which
// objects would compete with the cluster's) and the install step.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { TaskError } from "../lib/errors.ts";
import type { ReleaseOptions } from "../lib/helm.ts";
import { parseManifests, type KubeObject } from "../lib/manifests.ts";
import type { FlagSpec, TaskContext } from "../lib/task.ts";
import { renderApiVersions } from "../lib/api-versions.ts";
import { orthancRelease } from "./releases.ts";

export const valuesFlag: Record<string, FlagSpec> = {
  values: { type: "string", description: "extra values file for helm/orthanc (see docs/helm.md)" },
};

/** The release as the settings and --values FILE describe it. */
export function releaseWithValues(ctx: TaskContext): ReleaseOptions {
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
export async function renderOrthanc(ctx: TaskContext): Promise<KubeObject[]> {
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
