// The real node's images, built here from Debian packages and our own builds:
// nothing is pulled. A Debian image is an mmdebstrap root filesystem (a tar),
// a binary image a tar of a few files; either becomes an OCI image layout tar
// (oci.ts), cached by the hash of everything it is built from, and is imported
// into the node's containerd. Each image's name carries that hash, so a
// changed recipe is a new image and pods never run a stale one.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { log, progress } from "../../tasks/lib/log.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import type { NodeBinaries } from "./builds.ts";
import { nodeCache } from "./layout.ts";
import { writeOciArchive } from "./oci.ts";

const hooksDir = join(import.meta.dirname, "images");

interface DebianRecipe {
  kind: "debian";
  suite: string;
  packages: string[];
  /** Scripts from images/, run as mmdebstrap customize hooks with the root filesystem and these arguments. */
  hooks: { script: string; args: string[] }[];
  /** Files from images/ copied to /usr/local/bin. */
  copyIn: string[];
  /** Absolute path in the image → file on this machine (our builds), installed executable. */
  files?: Record<string, string>;
}

interface FilesRecipe {
  kind: "files";
  /** Absolute path in the image → file on this machine. */
  files: Record<string, string>;
}

export interface ImageSpec {
  /** Short name: "orthanc", "postgresql", "pause", … */
  name: string;
  /** What the image holds, for its tag: "1.13" for Orthanc, the pin for a built component. */
  version: string;
  recipe: DebianRecipe | FilesRecipe;
  entrypoint?: string[];
  user?: string;
  /** Says it stands in for an upstream image, printed and put in the image's labels. */
  standsInFor?: string;
}

/** Everything that would change the image's content, hashed. */
export function recipeKey(spec: ImageSpec): string {
  const hash = createHash("sha256").update(JSON.stringify({ ...spec, recipe: { ...spec.recipe, files: undefined } }));
  if (spec.recipe.kind === "debian") {
    for (const hook of spec.recipe.hooks) hash.update(readFileSync(join(hooksDir, hook.script)));
    for (const file of spec.recipe.copyIn) hash.update(readFileSync(join(hooksDir, file)));
  }
  for (const [target, source] of Object.entries(spec.recipe.files ?? {}).sort()) hash.update(target).update(readFileSync(source));
  return hash.digest("hex").slice(0, 12);
}

export const imageName = (spec: ImageSpec) => `korthweb.local/${spec.name}:${spec.version}-${recipeKey(spec)}`;

// Docs, man pages and translations are not needed in a container and are a third of its size.
const slimDpkg = ["path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/man/*", "path-exclude=/usr/share/locale/*"];

export function imageSpecs(bins: NodeBinaries): ImageSpec[] {
  const component = (name: keyof NodeBinaries["components"], binary: string): ImageSpec => ({
    name: name.toLowerCase(),
    version: pins.realNode[name].version,
    recipe: { kind: "files", files: { [`/usr/local/bin/${binary}`]: bins.components[name] } },
    entrypoint: [`/usr/local/bin/${binary}`],
    user: "65532:65532",
  });
  return [
    { name: "pause", version: "korthweb", recipe: { kind: "files", files: { "/pause": bins.pause } }, entrypoint: ["/pause"], user: "65535:65535" },
    {
      name: "orthanc",
      version: "1.13",
      recipe: {
        kind: "debian",
        suite: pins.realNode.suites.orthanc,
        // orthanc depends on "systemd | systemd-standalone-sysusers | …": the standalone sysusers, not systemd (whose setup fails in a chroot).
        packages: ["orthanc", "orthanc-postgresql", "python3", "ca-certificates", "systemd-standalone-sysusers"],
        hooks: [
          { script: "set-ids.sh", args: ["orthanc", "999"] },
          { script: "orthanc-layout.sh", args: [] },
        ],
        copyIn: [],
      },
      entrypoint: ["Orthanc"],
      user: "999:999",
      standsInFor: "orthancteam/orthanc (Orthanc 1.13 from Debian sid in the same file layout)",
    },
    {
      name: "postgresql",
      version: "15",
      recipe: {
        kind: "debian",
        suite: pins.realNode.suites.postgresql,
        packages: ["postgresql-15", "openssl", "ca-certificates"],
        hooks: [{ script: "set-uid.sh", args: ["postgres", "999"] }],
        copyIn: ["postgresql-entrypoint.sh"],
      },
      entrypoint: ["/usr/local/bin/postgresql-entrypoint.sh"],
      user: "999:999",
      standsInFor: "bitnamilegacy/postgresql (PostgreSQL 15 from Debian bookworm)",
    },
    component("coredns", "coredns"),
    component("metallb", "controller"),
    component("localPathProvisioner", "local-path-provisioner"),
    component("traefik", "traefik"),
  ];
}

async function buildRootfs(spec: ImageSpec, tar: string): Promise<void> {
  const recipe = spec.recipe;
  if (recipe.kind === "files") {
    const staging = `${tar}.d`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(join(staging, "tmp"), { recursive: true, mode: 0o1777 });
    for (const [target, source] of Object.entries(recipe.files)) {
      mkdirSync(join(staging, target, ".."), { recursive: true });
      copyFileSync(source, join(staging, target));
    }
    await run("chmod", ["1777", join(staging, "tmp")], { silent: true });
    await run("tar", ["-C", staging, "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--sort=name", "-cf", tar, "."], { silent: true });
    rmSync(staging, { recursive: true, force: true });
    return;
  }
  const hooks = recipe.hooks.map((hook) => `--customize-hook=sh ${join(hooksDir, hook.script)} "$1" ${hook.args.join(" ")}`);
  const copies = recipe.copyIn.map((file) => `--customize-hook=copy-in ${join(hooksDir, file)} /usr/local/bin`);
  // upload names the file inside but keeps no mode: made executable after.
  const uploads = Object.entries(recipe.files ?? {}).flatMap(([target, source]) => [`--customize-hook=upload ${source} ${target}`, `--customize-hook=chmod 0755 "$1"${target}`]);
  await run(
    "mmdebstrap",
    [
      "--variant=essential",
      "--mode=root",
      "--format=tar",
      `--include=${recipe.packages.join(",")}`,
      ...slimDpkg.map((option) => `--dpkgopt=${option}`),
      // The mirror serves frozen snapshots whose Release files are past their Valid-Until date.
      '--aptopt=Acquire::Check-Valid-Until "false"',
      ...copies,
      ...uploads,
      ...hooks,
      // apt's lists and caches do not belong in the image.
      "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*",
      recipe.suite,
      tar,
      "http://deb.debian.org/debian",
    ],
    // The system's own tools only: mmdebstrap runs its helpers (mmtarfilter: python3) once per package.
    { silent: true, timeoutMs: 1_200_000, env: { PATH: "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" } },
  );
}

export interface BuiltImage {
  spec: ImageSpec;
  name: string;
  archive: string;
  /** Seconds spent building (0: cached). */
  seconds: number;
}

/** Builds (unless cached) the OCI archive of one image. */
export async function buildImage(spec: ImageSpec, cacheDir = nodeCache().images): Promise<BuiltImage> {
  const name = imageName(spec);
  const archive = join(cacheDir, `${spec.name}-${recipeKey(spec)}.oci.tar`);
  if (existsSync(archive)) return { spec, name, archive, seconds: 0 };
  mkdirSync(cacheDir, { recursive: true });
  const started = Date.now();
  const line = progress(`building image ${name}${spec.recipe.kind === "debian" ? ` (mmdebstrap, Debian ${spec.recipe.suite})` : ""}`);
  const rootfs = `${archive}.rootfs.tar`;
  try {
    await buildRootfs(spec, rootfs);
    await writeOciArchive(rootfs, { name, ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}), ...(spec.user ? { user: spec.user } : {}), labels: spec.standsInFor ? { "io.korthweb.stands-in-for": spec.standsInFor } : {} }, `${archive}.partial`);
    renameSync(`${archive}.partial`, archive);
  } catch (error) {
    line.fail(`building image ${name} failed`);
    throw error;
  } finally {
    rmSync(rootfs, { force: true });
  }
  line.done(`image ${name}${spec.standsInFor ? ` (stand-in for ${spec.standsInFor})` : ""}`);
  return { spec, name, archive, seconds: (Date.now() - started) / 1000 };
}

export async function buildImages(bins: NodeBinaries): Promise<BuiltImage[]> {
  const built: BuiltImage[] = [];
  for (const spec of imageSpecs(bins)) built.push(await buildImage(spec));
  const cached = built.filter((image) => image.seconds === 0).length;
  if (cached) log.ok(`${cached} of ${built.length} images cached in ${nodeCache().images}`);
  return built;
}

/** Imports the archives into the node's containerd (namespace k8s.io, where the kubelet looks). */
export async function importImages(ctrAddress: string, images: readonly BuiltImage[]): Promise<void> {
  const { stdout } = await run("ctr", ["--address", ctrAddress, "-n", "k8s.io", "images", "list", "-q"], { silent: true });
  const present = new Set(stdout.split("\n").map((line) => line.trim()));
  for (const image of images) {
    if (present.has(image.name)) continue;
    await run("ctr", ["--address", ctrAddress, "-n", "k8s.io", "images", "import", image.archive], { silent: true, timeoutMs: 600_000 });
  }
}

export const imageByName = (images: readonly BuiltImage[], name: string): string => {
  const found = images.find((image) => image.spec.name === name);
  if (!found) throw new Error(`no image ${name} in the real node's image set`);
  return found.name;
};

/**
 * The name the committed manual YAML and the gitops HelmReleases give the Orthanc image: the chart's
 * default image (helm/orthanc/values.yaml), as containerd's CRI normalises it (docker.io/…). A digest
 * cannot be given to a local image, so a pinned digest stops here with what to do.
 */
export function upstreamOrthancImage(chartValuesFile = fromRoot("helm", "orthanc", "values.yaml")): string {
  const { image } = parse(readFileSync(chartValuesFile, "utf8")) as { image?: { repository?: string; tag?: string; digest?: string } };
  if (!image?.repository || !image.tag) throw new Error(`${chartValuesFile}: image.repository and image.tag are needed to name the Orthanc image stand-in`);
  if (image.digest) throw new Error(`${chartValuesFile}: image.digest is set; the real node's Orthanc image stand-in can only take a tag (set image.digest: "" for the tier)`);
  const repository = image.repository.split("/")[0]!.includes(".") ? image.repository : `docker.io/${image.repository.includes("/") ? image.repository : `library/${image.repository}`}`;
  return `${repository}:${image.tag}`;
}

/**
 * Gives an imported image a second name in the node's containerd (ctr images tag --force: re-running is
 * fine). The manual and gitops approaches pin orthancteam/orthanc and cannot be pointed at a values file
 * without changing manual/ or gitops/: under that name the kubelet (imagePullPolicy IfNotPresent) finds the
 * Orthanc image STAND-IN built here, and the pod's imageID still says which image it really is.
 */
export async function tagImage(ctrAddress: string, source: string, target: string): Promise<void> {
  await run("ctr", ["--address", ctrAddress, "-n", "k8s.io", "images", "tag", "--force", source, target], { silent: true });
}
