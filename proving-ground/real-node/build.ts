// `make real-node-build`: everything the real node needs, built once and
// cached (~/.cache/korthweb): the Debian packages it runs (apt-get, when
// missing), kubelet and kube-proxy, CoreDNS, MetalLB's controller,
// local-path-provisioner, Traefik, the pause program, the images
// (mmdebstrap root filesystems → OCI archives), the extras that
// `cluster-up --with` installs (cert-manager), and Flux's source-, kustomize-
// and helm-controller with their one stand-in image (flux.ts: what the gitops
// tier runs). `make test` runs it first so the real-node tier's own time is
// spent running, not building.
import { log } from "../../tasks/lib/log.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { ensurePackages } from "../local/packages.ts";
import { buildNode } from "./builds.ts";
import { nodeExtras } from "./extras.ts";
import { buildFluxControllers, fluxBinaries, fluxImageSpec } from "./flux.ts";
import { buildImage, buildImages } from "./images.ts";
import { nodePackages, readMachineFacts, missingForRealNode } from "./preflight.ts";

export const task: Task = {
  id: "real-node/build",
  title: "Build the real node's binaries and images (Go module proxy, Debian; cached)",
  summary:
    "Installs the Debian packages the real node runs when missing (containerd, runc, CNI plugins, iptables, mmdebstrap, gcc), builds kubelet and kube-proxy (the control plane's pin), CoreDNS, MetalLB's controller, local-path-provisioner, Traefik, the extras (cert-manager) and Flux's source-, kustomize- and helm-controller from the Go module proxy, and the images (Orthanc 1.13 from Debian sid, PostgreSQL 15 from bookworm, the components, pause). Cached: a second run takes seconds. On a machine that cannot run a real node (not root), says why and builds nothing.",
  run: async (ctx) => {
    const missing = missingForRealNode(await readMachineFacts());
    if (missing.length) {
      log.warn(`this machine cannot run the real node, so nothing is built for it: ${missing.join("; ")}`);
      return;
    }
    if (ctx.dryRun) {
      log.info("[dry-run] would install missing Debian packages, build the real node's binaries and images");
      return;
    }
    const started = Date.now();
    await ensurePackages(nodePackages);
    const build = await buildNode();
    const images = await buildImages(build.binaries);
    // The extras too (`cluster-up --with …`): the real-node tests use them.
    const extras: string[] = [];
    for (const extra of nodeExtras) {
      const built = await extra.build();
      extras.push(`${extra.name} ${built.seconds ? `${built.seconds.toFixed(0)}s` : "cached"}`);
    }
    // Flux's controllers last: the Go build cache then already holds the Kubernetes libraries they share with the node's components.
    const fluxStarted = Date.now();
    const flux = await buildFluxControllers();
    const fluxImage = await buildImage(fluxImageSpec(fluxBinaries()));
    const fluxSeconds = (Date.now() - fluxStarted) / 1000;
    const built = Object.entries({ ...build.seconds, ...flux }).filter(([, seconds]) => seconds > 0);
    log.ok(
      `real node built in ${((Date.now() - started) / 1000).toFixed(0)}s` +
        (built.length ? ` (${built.map(([name, seconds]) => `${name} ${seconds.toFixed(0)}s`).join(", ")})` : " (binaries cached)") +
        `; images: ${[...images, fluxImage].map((image) => `${image.spec.name}${image.seconds ? ` ${image.seconds.toFixed(0)}s` : " cached"}`).join(", ")}; extras: ${extras.join(", ")}`,
    );
    log.ok(`Flux's controllers and their stand-in image: ${Object.values(flux).some((seconds) => seconds > 0) || fluxImage.seconds > 0 ? `${fluxSeconds.toFixed(0)}s` : "cached"}`);
  },
};

if (import.meta.main) await main("real-node-build", [task]);
