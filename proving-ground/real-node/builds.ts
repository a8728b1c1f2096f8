// Builds the real node's binaries from the Go module proxy at pinned versions,
// once, into the shared cache: kubelet and kube-proxy (the control plane's
// wrapper-module technique, same Kubernetes pin, version stamped), and the
// system components CoreDNS, MetalLB's controller, local-path-provisioner and
// Traefik. Those four are built inside a copy of their downloaded module
// (their go.mod has replace lines, which `go install mod@version` refuses);
// Traefik's go.mod also replaces github.com/traefik/traefik/dynamic/ext with a
// folder that has its own go.mod and so is not in the module the proxy serves:
// we write that tiny extension package ourselves (two empty structs, as the
// open-source build has them). Static binaries (CGO_ENABLED=0).
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo, type GoToolchain } from "../../tasks/lib/go.ts";
import { log, progress } from "../../tasks/lib/log.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { buildWrapper, kubernetesModule } from "../cluster/build.ts";
import { controlPlaneGoMod, versionLdflags } from "../cluster/wrapper-modules.ts";
import { nodeCache } from "./layout.ts";

/** pins.realNode entries that are not system components of every real node: the Debian suites, and the extras built on demand (extras.ts). */
const notComponents = ["suites", "certManager"] as const;

export type ComponentName = keyof Omit<typeof pins.realNode, (typeof notComponents)[number]>;

export interface NodeBinaries {
  kubelet: string;
  kubeProxy: string;
  components: Record<ComponentName, string>;
  pause: string;
}

export function nodeBinaries(cache = nodeCache()): NodeBinaries {
  const components = Object.fromEntries(
    (Object.keys(pins.realNode).filter((key) => !(notComponents as readonly string[]).includes(key)) as ComponentName[]).map((name) => [name, join(cache.modules, `${name}-${pins.realNode[name].version}`, "bin", name)]),
  ) as Record<ComponentName, string>;
  return { kubelet: join(cache.node, "bin", "kubelet"), kubeProxy: join(cache.node, "bin", "kube-proxy"), components, pause: join(cache.pause, "pause") };
}

/** The Go module Traefik's go.mod points at a folder of its repository for; the proxy does not serve it. */
export const traefikExtModule = {
  path: "github.com/traefik/traefik/dynamic/ext",
  folder: "pkg/config/dynamic/ext",
  goMod: "module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n",
  source: [
    "// Written by korthweb (proving-ground/real-node/builds.ts): the open-source build's extension points of",
    "// Traefik's dynamic configuration are empty; their module is not published on the Go module proxy.",
    "package ext",
    "",
    "// HTTP extends dynamic.HTTP (nothing in the open-source build).",
    "type HTTP struct{}",
    "",
    "// Router extends dynamic.Router (nothing in the open-source build).",
    "type Router struct{}",
    "",
  ].join("\n"),
};

export const stampOf = (...parts: string[]) => createHash("sha256").update(parts.join("\n")).digest("hex");

/** A Go module built into one binary: its path, pinned version, main package and served replacements for what the proxy lacks. */
export interface ModulePin {
  module: string;
  version: string;
  package: string;
  replace?: Readonly<Record<string, string>>;
}

const pinOf = (name: ComponentName): ModulePin => pins.realNode[name];

function componentStamp(name: string, pin: ModulePin): string {
  return stampOf(pin.module, pin.version, pin.package, JSON.stringify(pin.replace ?? {}), name === "traefik" ? traefikExtModule.source : "");
}

/** Is this component built at its pin (binary present, stamp current)? */
export function isComponentBuilt(name: string, output: string, pin: ModulePin = pinOf(name as ComponentName)): boolean {
  const stampFile = join(output, "..", ".stamp");
  return existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === componentStamp(name, pin);
}

/** Builds one pinned component inside a writable copy of its module; returns seconds spent (0: cached). */
export async function buildComponent({ go, env }: GoToolchain, name: string, output: string, pin: ModulePin = pinOf(name as ComponentName)): Promise<number> {
  const dir = join(output, "..", "..");
  const stampFile = join(dir, "bin", ".stamp");
  const stamp = componentStamp(name, pin);
  if (isComponentBuilt(name, output, pin)) {
    log.ok(`${name} ${pin.version}: cached in ${join(dir, "bin")}`);
    return 0;
  }
  const started = Date.now();
  const line = progress(`building ${name} from ${pin.module}@${pin.version} (first time: minutes on 2 cores)`);
  try {
    const { stdout } = await run(go, ["mod", "download", "-json", `${pin.module}@${pin.version}`], { env, silent: true, cwd: "/" });
    const downloaded = JSON.parse(stdout) as { Dir: string };
    // Per process: two builds of the same pin (two worktrees) never share a half-copied folder.
    const source = join(dir, `src-${process.pid}`);
    rmSync(source, { recursive: true, force: true });
    cpSync(downloaded.Dir, source, { recursive: true });
    chmodAll(source);
    if (name === "traefik" && readFileSync(join(source, "go.mod"), "utf8").includes(`${traefikExtModule.path} => ./${traefikExtModule.folder}`)) {
      const ext = join(source, traefikExtModule.folder);
      mkdirSync(ext, { recursive: true });
      writeFileSync(join(ext, "go.mod"), traefikExtModule.goMod);
      writeFileSync(join(ext, "ext.go"), traefikExtModule.source);
    }
    // Dependencies the proxy does not serve at the version the module pins, replaced by a served one (pins.realNode).
    const replace = pin.replace ?? {};
    for (const [module, version] of Object.entries(replace)) await run(go, ["mod", "edit", `-replace=${module}=${module}@${version}`], { cwd: source, env, silent: true });
    mkdirSync(join(dir, "bin"), { recursive: true });
    await run(go, ["build", "-trimpath", "-ldflags=-s -w", "-o", output, pin.package], { cwd: source, env, silent: true, timeoutMs: 3_600_000 });
    rmSync(source, { recursive: true, force: true });
  } catch (error) {
    line.fail(`building ${name} failed`);
    throw error;
  }
  writeFileSync(stampFile, `${stamp}\n`);
  line.done(`${name} ${pin.version} built into ${join(dir, "bin")}`);
  return (Date.now() - started) / 1000;
}

/** The module cache is read-only; the copy must be writable (go.sum updates, the ext folder, cleanup). */
export function chmodAll(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chmodAll(path);
    else if (entry.isFile()) chmodSync(path, 0o644);
  }
}

/**
 * The pause container (the pod sandbox's process): our own few lines of C, statically linked, because the
 * upstream pause image cannot be pulled here and no Go module ships it. It waits for signals and exits on
 * SIGINT/SIGTERM, and reaps children, which is all a sandbox needs.
 */
export const pauseSource = `/* Written by korthweb (proving-ground/real-node/builds.ts): the pod sandbox process. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signo) { (void)signo; _exit(0); }
static void reap(int signo) { (void)signo; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  struct sigaction on_stop = { .sa_handler = stop };
  struct sigaction on_child = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP };
  sigaction(SIGINT, &on_stop, NULL);
  sigaction(SIGTERM, &on_stop, NULL);
  sigaction(SIGCHLD, &on_child, NULL);
  for (;;) pause();
}
`;

export async function buildPause(output: string): Promise<number> {
  const dir = join(output, "..");
  const stampFile = join(dir, ".stamp");
  const stamp = stampOf(pauseSource);
  if (existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === stamp) return 0;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pause.c"), pauseSource);
  await run("gcc", ["-Os", "-static", "-Wall", "-o", output, join(dir, "pause.c")], { silent: true });
  writeFileSync(stampFile, `${stamp}\n`);
  return 0.1;
}

export interface NodeBuildReport {
  binaries: NodeBinaries;
  seconds: Record<string, number>;
}

export async function buildNode(cache = nodeCache()): Promise<NodeBuildReport> {
  const go = await requireGo("building the real node");
  const bins = nodeBinaries(cache);
  const seconds: Record<string, number> = {};
  const kubernetes = await kubernetesModule(go, cache.node);
  seconds.kubelet = await buildWrapper(go, {
    label: `kubelet, kube-proxy ${pins.cluster.kubernetes}`,
    dir: cache.node,
    goMod: controlPlaneGoMod(pins.cluster.kubernetes, kubernetes.goMod).replace("module korthweb.local/control-plane", "module korthweb.local/node").replace("kube-apiserver, kube-controller-manager and kube-scheduler", "kubelet and kube-proxy"),
    packages: ["kubelet", "kube-proxy"].map((name) => `k8s.io/kubernetes/cmd/${name}`),
    ldflags: versionLdflags(pins.cluster.kubernetes, kubernetes.time),
    outputs: [bins.kubelet, bins.kubeProxy],
  });
  for (const name of Object.keys(bins.components) as ComponentName[]) seconds[name] = await buildComponent(go, name, bins.components[name]);
  seconds.pause = await buildPause(bins.pause);
  return { binaries: bins, seconds };
}
