// Flux itself: the pinned controllers manifest, the names of its CRDs and
// controllers, and the two objects the bootstrap owns (the GitRepository of
// the fork and the entry Kustomization). Everything else comes from Git.
import { readFileSync } from "node:fs";
import { TaskError } from "../lib/errors.ts";
import { parseManifests, type KubeObject } from "../lib/manifests.ts";
import { pins } from "../lib/settings.ts";
import { controllerAccounts } from "./flux-lockdown.ts";
import type { SourceOptions } from "./options.ts";
import { bootstrap } from "./tree.ts";

/** Resource names for kubectl (qualified: "kustomization" alone is ambiguous next to kustomize's own kind). */
export const fluxResources = {
  gitRepository: "gitrepositories.source.toolkit.fluxcd.io",
  kustomization: "kustomizations.kustomize.toolkit.fluxcd.io",
  helmRelease: "helmreleases.helm.toolkit.fluxcd.io",
} as const;

/** CRDs the tree uses; the install waits until they are established. */
export const fluxCrds = [
  "gitrepositories.source.toolkit.fluxcd.io",
  "helmrepositories.source.toolkit.fluxcd.io",
  "ocirepositories.source.toolkit.fluxcd.io",
  "helmcharts.source.toolkit.fluxcd.io",
  "kustomizations.kustomize.toolkit.fluxcd.io",
  "helmreleases.helm.toolkit.fluxcd.io",
] as const;

export const fluxControllers = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"] as const;

/** Setting it to a new value makes a Flux object reconcile now instead of at its next interval. */
export const reconcileAnnotation = "reconcile.fluxcd.io/requestedAt";

export interface FluxManifest {
  text: string;
  origin: string;
  objects: KubeObject[];
}

/** Checks that a manifest is the pinned Flux release: it has the CRDs and every versioned object says pins.flux.version. */
export function checkFluxManifest(text: string, origin: string): FluxManifest {
  const objects = parseManifests(text, origin).map((item) => item.object);
  const crds = new Set(objects.filter((o) => o.kind === "CustomResourceDefinition").map((o) => String(o.metadata?.name)));
  const missing = fluxCrds.filter((name) => !crds.has(name));
  if (missing.length > 0) {
    throw new TaskError(`${origin} is not a Flux install manifest: it lacks the CRDs ${missing.join(", ")}`, {
      code: "invalidValues",
      hint: `use the release's install.yaml (${pins.flux.installManifest})`,
    });
  }
  const versions = new Set(
    objects.map((o) => (o.metadata?.labels as Record<string, unknown> | undefined)?.["app.kubernetes.io/version"]).filter((v): v is string => typeof v === "string"),
  );
  if (versions.size !== 1 || !versions.has(pins.flux.version)) {
    throw new TaskError(`${origin} is Flux ${[...versions].join(", ") || "of unknown version"}; korthweb pins ${pins.flux.version}`, {
      code: "invalidValues",
      hint: `use ${pins.flux.installManifest}, or change pins.flux in tasks/lib/settings.ts after testing the new version`,
    });
  }
  return { text, origin, objects };
}

/** The pinned install.yaml: from a local file (air-gapped clusters, tests) or downloaded from the release. */
export async function loadFluxManifest(file: string | undefined, fetchText: (url: string) => Promise<string> = download): Promise<FluxManifest> {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new TaskError(`cannot read --flux-manifest ${file}: ${(error as Error).message}`, { code: "usage" });
    }
    return checkFluxManifest(text, file);
  }
  return checkFluxManifest(await fetchText(pins.flux.installManifest), pins.flux.installManifest);
}

async function download(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    throw new TaskError(`cannot download ${url}: ${(error as Error).message}`, {
      hint: "check this machine's internet access, or download the file elsewhere and pass --flux-manifest FILE",
    });
  }
  if (!response.ok) throw new TaskError(`cannot download ${url}: HTTP ${response.status}`, { hint: "pass --flux-manifest FILE with the release's install.yaml" });
  return response.text();
}

/** The fork, as Flux's source. Only gitops/ and helm/ are packed: that is all the tree reads. */
export function gitRepositoryObject(source: SourceOptions): KubeObject {
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "GitRepository",
    metadata: { name: bootstrap.gitRepository, namespace: bootstrap.namespace, labels: { "app.kubernetes.io/part-of": "korthweb" } },
    spec: {
      interval: "1m",
      url: source.url,
      ref: { branch: source.branch },
      ...(source.secretName ? { secretRef: { name: source.secretName } } : {}),
      ignore: "/*\n!/gitops/\n!/helm/\n",
    },
  };
}

/** The label of the platform's Kustomization per tenant (tenants/base/tenant.yaml): the one that creates the tenant's copy of this repository. */
export const onboardingLabel = { key: "korthweb/onboarding", value: "tenant" } as const;

/**
 * Points the platform's copies of this repository in tenant namespaces (tenants/base/onboarding/sources.yaml,
 * written with placeholders) at the fork, with the same credentials Secret (copied into each tenant namespace
 * by step 4). Under --no-cross-namespace-refs a tenant cannot use flux-system's GitRepository, and its own
 * copy's URL is the bootstrap's to know, not Git's. Each copy is applied by its tenant's onboarding
 * Kustomization, so the entry hands each of those this JSON patch (a patch that adds a patch).
 */
export function tenantRepositoryPatch(source: SourceOptions): { target: Record<string, string>; patch: string } {
  const ops = [
    { op: "replace", path: "/spec/url", value: source.url },
    { op: "replace", path: "/spec/ref", value: { branch: source.branch } },
    ...(source.secretName ? [{ op: "add", path: "/spec/secretRef", value: { name: source.secretName } }] : []),
  ];
  const forCopies = { target: { group: "source.toolkit.fluxcd.io", kind: "GitRepository", name: bootstrap.gitRepository }, patch: JSON.stringify(ops) };
  return {
    target: { group: "kustomize.toolkit.fluxcd.io", kind: "Kustomization", labelSelector: `${onboardingLabel.key}=${onboardingLabel.value}` },
    patch: JSON.stringify([{ op: "add", path: "/spec/patches", value: [forCopies] }]),
  };
}

/**
 * The entry Kustomization: applies the cluster folder, which brings everything else. It runs as
 * kustomize-controller's own account, named explicitly: under Flux's --default-service-account an
 * object naming none applies with no rights.
 */
export function entryKustomizationObject(source: SourceOptions): KubeObject {
  return {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: bootstrap.entryKustomization, namespace: bootstrap.namespace, labels: { "app.kubernetes.io/part-of": "korthweb" } },
    spec: {
      serviceAccountName: controllerAccounts.kustomization,
      interval: "10m",
      retryInterval: "1m",
      timeout: "5m",
      path: source.path,
      prune: true,
      sourceRef: { kind: "GitRepository", name: bootstrap.gitRepository },
      patches: [tenantRepositoryPatch(source)],
    },
  };
}
