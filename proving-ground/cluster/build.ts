// Builds the simulated cluster's binaries from the Go module proxy at the
// pinned versions, once: kube-apiserver, kube-controller-manager and
// kube-scheduler (wrapper module, version stamped), etcd (wrapper module),
// kwok and kwokctl (plain go install, tasks/setup/go-tools.ts). A stamp file
// per wrapper records what was built; Go's own caches (GOMODCACHE, GOCACHE)
// make a rebuild after a pin change quick. Prints how long each part took.
//   node proving-ground/cluster/build.ts [--dry-run]        (make cluster-build)
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import { log, progress } from "../../tasks/lib/log.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { requireGo, type GoToolchain } from "../../tasks/lib/go.ts";
import { buildGoTool } from "../../tasks/setup/go-tools.ts";
import { binaries, buildDirs, cacheRoot, type Binaries } from "./layout.ts";
import { controlPlaneGoMod, controlPlanePackages, etcdGoMod, etcdPackage, versionLdflags } from "./wrapper-modules.ts";


export interface WrapperBuild {
  label: string;
  dir: string;
  goMod: string;
  packages: string[];
  ldflags: string;
  outputs: string[];
}

const stampOf = (build: WrapperBuild) =>
  createHash("sha256").update([build.goMod, build.packages.join(" "), build.ldflags].join("\n")).digest("hex");

export function isWrapperBuilt(build: WrapperBuild): boolean {
  const stamp = join(build.dir, "bin", ".stamp");
  return build.outputs.every((file) => existsSync(file)) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === stampOf(build);
}

/** Builds a wrapper module's packages into <dir>/bin unless the stamp says they are current. Returns seconds spent (0 when cached). */
export async function buildWrapper({ go, env }: GoToolchain, build: WrapperBuild): Promise<number> {
  if (isWrapperBuilt(build)) {
    log.ok(`${build.label}: cached in ${join(build.dir, "bin")}`);
    return 0;
  }
  mkdirSync(join(build.dir, "bin"), { recursive: true });
  // Our go.mod as generated; `go build -mod=mod` completes it (and go.sum) with what it resolves.
  writeFileSync(join(build.dir, "go.mod"), build.goMod);
  const started = Date.now();
  const line = progress(`building ${build.label} (first time: several minutes on 2 cores)`);
  try {
    // One package: name the file (etcd's would be called "server"); several: into the folder, named after their commands.
    const output = build.packages.length === 1 ? build.outputs[0]! : `${join(build.dir, "bin")}/`;
    await run(go, ["build", "-trimpath", `-ldflags=${build.ldflags}`, "-o", output, ...build.packages], {
      cwd: build.dir,
      env,
      silent: true,
    });
  } catch (error) {
    line.fail(`building ${build.label} failed`);
    throw error;
  }
  writeFileSync(join(build.dir, "bin", ".stamp"), `${stampOf(build)}\n`);
  const seconds = (Date.now() - started) / 1000;
  line.done(`${build.label} built into ${join(build.dir, "bin")}`);
  return seconds;
}

interface Downloaded {
  GoMod: string;
  Info: string;
}

/** Kubernetes' go.mod and publication time, from the module proxy (cached in GOMODCACHE). */
export async function kubernetesModule({ go, env }: GoToolchain, dir: string): Promise<{ goMod: string; time: string }> {
  mkdirSync(dir, { recursive: true });
  const { stdout } = await run(go, ["mod", "download", "-json", `k8s.io/kubernetes@${pins.cluster.kubernetes}`], { cwd: dir, env, silent: true });
  const downloaded = JSON.parse(stdout) as Downloaded;
  const info = JSON.parse(readFileSync(downloaded.Info, "utf8")) as { Time: string };
  return { goMod: readFileSync(downloaded.GoMod, "utf8"), time: info.Time };
}

export interface BuildReport {
  binaries: Binaries;
  /** Seconds spent building each part (0: cached). */
  seconds: Record<"controlPlane" | "etcd" | "kwok", number>;
}

export async function buildAll(root = cacheRoot()): Promise<BuildReport> {
  const go = await requireGo("building the simulated cluster");
  const dirs = buildDirs(root);
  const bins = binaries(root);
  log.info(`cache: ${root} (set KORTHWEB_CACHE_DIR to move it); Go: ${go.describe}`);

  const kubernetes = await kubernetesModule(go, dirs.controlPlane);
  const controlPlane = await buildWrapper(go, {
    label: `kube-apiserver, kube-controller-manager, kube-scheduler ${pins.cluster.kubernetes}`,
    dir: dirs.controlPlane,
    goMod: controlPlaneGoMod(pins.cluster.kubernetes, kubernetes.goMod),
    packages: controlPlanePackages,
    ldflags: versionLdflags(pins.cluster.kubernetes, kubernetes.time),
    outputs: [bins.kubeApiserver, bins.kubeControllerManager, bins.kubeScheduler],
  });
  const etcd = await buildWrapper(go, {
    label: `etcd ${pins.cluster.etcd}`,
    dir: dirs.etcd,
    goMod: etcdGoMod(pins.cluster.etcd),
    packages: [etcdPackage],
    ldflags: "",
    outputs: [bins.etcd],
  });
  const kwokStarted = Date.now();
  const kwokCached = existsSync(bins.kwok) && existsSync(bins.kwokctl);
  await buildGoTool("kwok");
  await buildGoTool("kwokctl");
  const kwok = kwokCached ? 0 : (Date.now() - kwokStarted) / 1000;
  return { binaries: bins, seconds: { controlPlane, etcd, kwok } };
}

export function describeBuild(report: BuildReport): string {
  const parts = Object.entries(report.seconds).map(([part, seconds]) => `${part} ${seconds ? `${seconds.toFixed(0)}s` : "cached"}`);
  const total = Object.values(report.seconds).reduce((sum, seconds) => sum + seconds, 0);
  return `build: ${total ? `${total.toFixed(0)}s` : "all cached"} (${parts.join(", ")})`;
}

export const buildTask: Task = {
  id: "cluster/build",
  title: "Build the simulated cluster's binaries (Go module proxy, pinned versions)",
  summary: `Builds kube-apiserver, kube-controller-manager and kube-scheduler ${pins.cluster.kubernetes} (a wrapper Go module over k8s.io/kubernetes, version stamped), etcd ${pins.cluster.etcd} (a wrapper module) and kwok/kwokctl (go install) from the Go module proxy into ${cacheRoot()}, once: a second run finds them cached. The first build takes several minutes on 2 cores.`,
  run: async (ctx) => {
    if (ctx.dryRun) {
      log.info(`[dry-run] would build, unless already built: kube-apiserver, kube-controller-manager, kube-scheduler ${pins.cluster.kubernetes} and etcd ${pins.cluster.etcd} into ${cacheRoot()}; kwok and kwokctl ${pins.goTools.kwok.version} into .tools/bin`);
      return;
    }
    log.ok(describeBuild(await buildAll()));
  },
};

if (import.meta.main) await main("cluster-build", [buildTask]);
