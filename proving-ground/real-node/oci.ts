// Turns a root filesystem tar into an OCI image layout tar that
// `ctr images import` takes: one uncompressed layer (nothing leaves this
// machine, so compressing would only cost CPU), the image config, the manifest
// and an index naming the image. Own code because the job is a few JSON files
// and no packaged tool here (umoci, skopeo, buildah) is in bookworm without
// pulling in a container engine; the format is the OCI image spec v1.1.
import { createHash } from "node:crypto";
import { createReadStream, linkSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";

export interface ImageConfig {
  /** "korthweb.local/orthanc:1.13.0-<hash>": the name pods refer to. */
  name: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  labels?: Record<string, string>;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Writes `output` (an OCI layout tar) from `rootfsTar` (an uncompressed tar of the root filesystem). */
export async function writeOciArchive(rootfsTar: string, image: ImageConfig, output: string): Promise<void> {
  const dir = `${output}.layout`;
  rmSync(dir, { recursive: true, force: true });
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const layerDigest = await sha256File(rootfsTar);
  linkSync(rootfsTar, join(blobs, layerDigest));
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: {
      ...(image.entrypoint ? { Entrypoint: image.entrypoint } : {}),
      ...(image.cmd ? { Cmd: image.cmd } : {}),
      Env: image.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      ...(image.user ? { User: image.user } : {}),
      ...(image.workingDir ? { WorkingDir: image.workingDir } : {}),
      ...(image.labels ? { Labels: image.labels } : {}),
    },
    rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created_by: "korthweb proving-ground/real-node (rootfs built here, see docs/cluster.md)" }],
  });
  writeFileSync(join(blobs, sha256(config)), config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${sha256(config)}`, size: Buffer.byteLength(config) },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${layerDigest}`, size: statSync(rootfsTar).size }],
  });
  writeFileSync(join(blobs, sha256(manifest)), manifest);
  const tag = image.name.slice(image.name.lastIndexOf(":") + 1);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: `sha256:${sha256(manifest)}`,
          size: Buffer.byteLength(manifest),
          platform: { architecture: "amd64", os: "linux" },
          annotations: { "io.containerd.image.name": image.name, "org.opencontainers.image.ref.name": tag },
        },
      ],
    }),
  );
  await run("tar", ["-C", dir, "-cf", output, "oci-layout", "index.json", "blobs"], { silent: true });
  rmSync(dir, { recursive: true, force: true });
}
