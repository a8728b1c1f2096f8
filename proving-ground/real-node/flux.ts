// Flux on the real node (issue 16): the controllers the gitops tree needs —
// source-, kustomize- and helm-controller, pins.realNodeFlux — built from
// their Go modules (builds.ts, cached by content) into ONE stand-in image (one
// import, one layer: the binaries share nothing at run time, but a single
// image saves a build step and containerd space; each Deployment runs its own
// binary as its command). The install manifest is a STAND-IN for the release's
// install.yaml, made from each module's own config/ folder (CRDs, the
// controller's Deployment and Service, its RBAC) as `flux install` would lay
// it out: namespace flux-system, one service account per controller, the
// reconcilers' cluster-admin binding. `make gitops-install --flux-manifest
// <it>` then builds the cluster's flux-system folder (the lockdown patches)
// over it, exactly as over the real install.yaml. notification-controller is
// not served by the Go module proxy: the manifest has none (docs/cluster.md).
//
//   node proving-ground/real-node/flux.ts    (KORTHWEB_WORK_DIR: the work folder of a running real node)
// builds (once), imports the image into the node's containerd, tags the tier's
// images under the stable names the real-node cluster folder refers to, and
// writes the manifest; it prints the next command.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo } from "../../tasks/lib/go.ts";
import { log } from "../../tasks/lib/log.ts";
import { parseManifests, toYaml, type KubeObject } from "../../tasks/lib/manifests.ts";
import { repoRoot, workDir } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { buildComponent } from "./builds.ts";
import { buildImage, importImages, type BuiltImage, type ImageSpec } from "./images.ts";
import { nodeCache, nodeLayout } from "./layout.ts";
import { standInLabel } from "./stand-ins.ts";

export type FluxControllerKey = keyof typeof pins.realNodeFlux;

/** The controllers, by pin key: the binary's (and the Deployment's) name. */
export const fluxControllerNames: Record<FluxControllerKey, string> = {
  sourceController: "source-controller",
  kustomizeController: "kustomize-controller",
  helmController: "helm-controller",
};

const controllerKeys = Object.keys(fluxControllerNames) as FluxControllerKey[];

export const fluxNamespace = "flux-system";

/**
 * The names the real-node cluster folder (gitops/clusters/real-node) gives the tier's images: Git cannot
 * know the content hash in each built image's own name, so the images are tagged with these after import
 * (the node's containerd is new with every cluster-up: a tag never points at another run's image).
 */
export const gitopsImageNames = {
  orthanc: "korthweb.local/orthanc:real-node",
  postgresql: "korthweb.local/postgresql:real-node",
} as const;

export function fluxBinaries(cache = nodeCache()): Record<FluxControllerKey, string> {
  return Object.fromEntries(
    controllerKeys.map((key) => {
      const name = fluxControllerNames[key];
      return [key, join(cache.modules, `${name}-${pins.realNodeFlux[key].version}`, "bin", name)];
    }),
  ) as Record<FluxControllerKey, string>;
}

/** Builds the three controllers (cached by content); returns seconds spent per controller (0: cached). */
export async function buildFluxControllers(cache = nodeCache()): Promise<Record<string, number>> {
  const go = await requireGo("building Flux's controllers");
  const outputs = fluxBinaries(cache);
  const seconds: Record<string, number> = {};
  for (const key of controllerKeys) seconds[fluxControllerNames[key]] = await buildComponent(go, fluxControllerNames[key], outputs[key], pins.realNodeFlux[key]);
  return seconds;
}

export function fluxImageSpec(binaries: Record<FluxControllerKey, string>): ImageSpec {
  return {
    name: "flux-controllers",
    version: pins.flux.version,
    // On Debian with the tools Flux's own images carry beside the binary (kustomize-controller's: git and
    // openssh-client for remote bases, gnupg for SOPS): without git a remote base fails on the missing program,
    // and the lockdown's refusal (--no-remote-bases) could not be told from that.
    recipe: {
      kind: "debian",
      suite: pins.realNode.suites.flux,
      packages: ["git", "openssh-client", "gnupg", "ca-certificates"],
      hooks: [],
      copyIn: [],
      files: Object.fromEntries(controllerKeys.map((key) => [`/usr/local/bin/${fluxControllerNames[key]}`, binaries[key]])),
    },
    // Flux's images run as nobody.
    user: "65534:65534",
    standsInFor: `ghcr.io/fluxcd/{source,kustomize,helm}-controller of Flux ${pins.flux.version} (${controllerKeys.map((key) => `${fluxControllerNames[key]} ${pins.realNodeFlux[key].version}`).join(", ")}, built from their Go modules, one image)`,
  };
}

/** The folder the Go module cache holds a pinned controller's module in. */
async function moduleFolder(key: FluxControllerKey): Promise<string> {
  const { go, env } = await requireGo("reading Flux's manifests");
  const pin = pins.realNodeFlux[key];
  const { stdout } = await run(go, ["mod", "download", "-json", `${pin.module}@${pin.version}`], { env, silent: true, cwd: "/" });
  return (JSON.parse(stdout) as { Dir: string }).Dir;
}

/** `kubectl kustomize` of a module's config/<part> (copied first: kustomize reads a path with "@" as a Git URL). */
async function kustomizeModulePart(moduleDir: string, part: "crd" | "manager" | "rbac"): Promise<KubeObject[]> {
  const scratch = mkdtempSync(join(tmpdir(), "korthweb-flux-config-"));
  try {
    cpSync(join(moduleDir, "config", part), join(scratch, part), { recursive: true });
    const { stdout } = await run(requireToolPath("kubectl"), ["kustomize", join(scratch, part)], { silent: true });
    return parseManifests(stdout, `${moduleDir}/config/${part}`).map((item) => item.object);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

type Container = { name: string; image?: string; imagePullPolicy?: string; command?: string[]; args?: string[] };
type PodSpec = { serviceAccountName?: string; containers: Container[] };

/** Labels `flux install` puts on everything, and ours saying what this is. */
const fluxLabels = (component?: string) => ({
  "app.kubernetes.io/instance": fluxNamespace,
  "app.kubernetes.io/part-of": "flux",
  "app.kubernetes.io/version": pins.flux.version,
  ...(component ? { "app.kubernetes.io/component": component } : {}),
  ...standInLabel,
});

/**
 * One controller's objects from its module's config/ folder, made to run as `flux install` runs it: in
 * flux-system, as its own service account (the modules bind "default" in "system"), with our image.
 */
export function controllerObjects(name: string, image: string, parts: { crd: KubeObject[]; manager: KubeObject[]; rbac: KubeObject[] }): KubeObject[] {
  const clusterScoped = new Set(["CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace"]);
  const objects = [...parts.crd, ...parts.rbac, ...parts.manager].map((object) => structuredClone(object));
  for (const object of objects) {
    object.metadata = { ...object.metadata, labels: { ...(object.metadata?.labels as Record<string, string> | undefined), ...fluxLabels(name) } };
    if (!clusterScoped.has(String(object.kind))) object.metadata.namespace = fluxNamespace;
    if (Array.isArray(object.subjects)) {
      object.subjects = object.subjects.map((subject: Record<string, unknown>) => (subject.kind === "ServiceAccount" ? { ...subject, name, namespace: fluxNamespace } : subject));
    }
    if (object.kind === "Deployment") {
      const template = (object.spec as { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } }).template;
      template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...fluxLabels(name) } };
      template.spec.serviceAccountName = name;
      const manager = template.spec.containers.find((container) => container.name === "manager");
      if (!manager) throw new Error(`the ${name} module's Deployment has no "manager" container`);
      manager.image = image;
      manager.imagePullPolicy = "Never";
      manager.command = [`/usr/local/bin/${name}`];
    }
  }
  return [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: fluxNamespace, labels: fluxLabels(name) } }, ...objects];
}

/** The stand-in for Flux's install.yaml: the namespace, then each controller's objects. */
export async function fluxInstallStandIn(image: string): Promise<KubeObject[]> {
  const objects: KubeObject[] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      // As install.yaml labels it, with Pod Security "restricted" (every controller runs restricted).
      metadata: { name: fluxNamespace, labels: { ...fluxLabels(), "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" } },
    },
  ];
  for (const key of controllerKeys) {
    const dir = await moduleFolder(key);
    const parts = { crd: await kustomizeModulePart(dir, "crd"), manager: await kustomizeModulePart(dir, "manager"), rbac: await kustomizeModulePart(dir, "rbac") };
    objects.push(...controllerObjects(fluxControllerNames[key], image, parts));
  }
  return objects;
}

export const fluxManifestHeader = [
  "# STAND-IN for Flux's install.yaml, written by proving-ground/real-node/flux.ts for the real-node tier:",
  `# ${fluxImageSpec(fluxBinaries()).standsInFor}.`,
  "# CRDs, Deployments, Services and RBAC from each controller's Go module (config/); no notification-controller",
  "# (the Go module proxy does not serve it). Use: make gitops-install ARGS=\"--flux-manifest <this file> ...\".",
].join("\n");

/** Tags the tier's images (recorded by cluster-up) under the names the real-node cluster folder uses. */
async function tagGitopsImages(containerdSocket: string, recorded: Record<string, string>): Promise<void> {
  for (const [short, stable] of Object.entries(gitopsImageNames)) {
    const built = recorded[short];
    if (!built) throw new Error(`${nodeLayout().images} names no ${short} image: run make cluster-up ARGS=--real-node`);
    await run("ctr", ["--address", containerdSocket, "-n", "k8s.io", "images", "tag", "--force", built, stable], { silent: true });
  }
}

export interface FluxOnNode {
  manifestFile: string;
  image: BuiltImage;
  buildSeconds: Record<string, number>;
}

/** Builds (once) and imports the Flux image into the running node, tags the tier's images, writes the stand-in manifest. */
export async function prepareFluxOnNode(clusterDir = join(workDir, "cluster")): Promise<FluxOnNode> {
  const layout = nodeLayout(clusterDir);
  const recorded = parse(readFileSync(layout.images, "utf8")) as Record<string, string>;
  const buildSeconds = await buildFluxControllers();
  const image = await buildImage(fluxImageSpec(fluxBinaries()));
  await importImages(layout.containerdSocket, [image]);
  await tagGitopsImages(layout.containerdSocket, recorded);
  const manifestFile = join(layout.dir, "flux-install.stand-in.yaml");
  mkdirSync(layout.dir, { recursive: true });
  writeFileSync(manifestFile, `${fluxManifestHeader}\n${toYaml(await fluxInstallStandIn(image.name))}`);
  return { manifestFile, image, buildSeconds };
}

export const task: Task = {
  id: "real-node/flux",
  title: "Flux's controllers (stand-in image and install manifest) on the real node",
  summary:
    `Builds source-controller ${pins.realNodeFlux.sourceController.version}, kustomize-controller ${pins.realNodeFlux.kustomizeController.version} and helm-controller ${pins.realNodeFlux.helmController.version} ` +
    "from the Go module proxy (once; cached), makes ONE stand-in image of them, imports it into the running real node, tags the tier's Orthanc and PostgreSQL images " +
    `as ${Object.values(gitopsImageNames).join(" and ")} (what gitops/clusters/real-node uses) and writes a stand-in for Flux's install.yaml from the modules' own config/ folders. ` +
    "Then: make gitops-install ARGS=\"--flux-manifest <it> --url <the local Git server> --path ./gitops/clusters/real-node\".",
  run: async () => {
    const prepared = await prepareFluxOnNode();
    const built = Object.entries(prepared.buildSeconds).map(([name, seconds]) => `${name} ${seconds ? `${Math.round(seconds)} s` : "cached"}`);
    log.ok(`Flux controllers: ${built.join(", ")}; image ${prepared.image.name} imported (stand-in for Flux's images)`);
    log.ok(`stand-in for Flux's install.yaml: ${relative(repoRoot, prepared.manifestFile)}`);
    log.info(`next: make gitops-install ARGS="--flux-manifest ${relative(repoRoot, prepared.manifestFile)} --url http://<git server>/korthweb.git --branch main --path ./gitops/clusters/real-node --skip-smoke"`);
  },
};

if (import.meta.main) await main(task.id, [task]);
