// Pins by digest: an image or OCI chart pinned by tag alone can change under
// the same tag. `make validate` lists each as a warning (never a failure: the
// digests of upstream images cannot be read on a machine without a registry)
// with where to set the digest and how to find it.
import { describeObject, type SourcedObject } from "../../tasks/lib/manifests.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { asArray, asObject, get } from "./json.ts";
import { podSpecPaths } from "./policy.ts";

export interface DigestWarning {
  file: string;
  object: string;
  path: string;
  message: string;
}

const howToFind = (reference: string) => `find it with \`crane digest ${reference}\` (or \`docker buildx imagetools inspect ${reference}\`)`;

/** Where a rendered image's digest is set, when it is one of ours. */
function whereToPin(image: string): string {
  if (image.startsWith("orthancteam/orthanc:")) return "set image.digest in the orthanc chart's values";
  if (image.includes("bitnamilegacy/postgresql:")) return "set backup.image.digest in the orthanc chart's values (and image.digest in the PostgreSQL values)";
  if (image.includes("rclone/rclone:")) return "set backup.s3.image.digest in the orthanc chart's values";
  return "append @sha256:<digest> to the image where it is set";
}

/** Containers whose image has no @sha256: digest. */
export function unpinnedImages(objects: readonly SourcedObject[]): DigestWarning[] {
  const warnings: DigestWarning[] = [];
  for (const { object, source } of objects) {
    // A CloudNativePG Cluster names its PostgreSQL image itself.
    const imageName = object.kind === "Cluster" ? get(object, "spec", "imageName") : undefined;
    if (typeof imageName === "string" && !imageName.includes("@sha256:")) {
      warnings.push({ file: source, object: describeObject(object), path: "spec.imageName", message: `image ${imageName} is pinned by tag only; set imageName in helm/orthanc-db-cnpg's values to <image>@sha256:<digest>: ${howToFind(imageName)}` });
    }
    const specPath = podSpecPaths[typeof object.kind === "string" ? object.kind : ""];
    if (!specPath) continue;
    const spec = asObject(get(object, ...specPath));
    for (const group of ["initContainers", "containers"] as const) {
      asArray(spec?.[group]).forEach((container, i) => {
        const image = container.image;
        if (typeof image !== "string" || image.includes("@sha256:")) return;
        warnings.push({
          file: source,
          object: describeObject(object),
          path: `${specPath.join(".")}.${group}[${i}].image`,
          message: `image ${image} is pinned by tag only; ${whereToPin(image)}: ${howToFind(image)}`,
        });
      });
    }
  }
  return warnings;
}

/** OCI charts in pins (tasks/lib/settings.ts) without a digest. */
export function unpinnedCharts(pinned: Record<string, unknown> = pins): DigestWarning[] {
  return Object.entries(pinned).flatMap(([name, value]) => {
    const pin = asObject(value);
    const chart = pin?.chart;
    if (typeof chart !== "string" || !chart.startsWith("oci://") || typeof pin?.digest === "string") return [];
    const reference = `${chart.slice("oci://".length)}:${String(pin?.version)}`;
    return [{ file: "tasks/lib/settings.ts", object: `pins.${name}`, path: "digest", message: `OCI chart ${chart} ${String(pin?.version)} is pinned by version only (the registry could serve other bytes under it); ${howToFind(reference)}, record it as digest in pins.${name} and install by digest (${chart}@sha256:…)` }];
  });
}

/** One warning per distinct image or chart, however many objects use it. */
export function dedupeWarnings(warnings: readonly DigestWarning[]): DigestWarning[] {
  const seen = new Set<string>();
  return warnings.filter((warning) => !seen.has(warning.message) && (seen.add(warning.message), true));
}

export const formatWarning = (warning: DigestWarning): string => `warning: ${warning.file}: ${warning.object}: ${warning.path}: ${warning.message}`;
