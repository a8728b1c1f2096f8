// Where the simulated cluster keeps things. Built binaries and generated
// CRDs are caches outside the repository (they survive a fresh clone of it);
// the running cluster's state (kubeconfig, kwok's work folder with PIDs, logs
// and etcd data) lives in the project's work folder, never in ~/.kube or ~/.kwok.
import { homedir } from "node:os";
import { join } from "node:path";
import { toolsBinDir, workDir } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";

/** KORTHWEB_CACHE_DIR, else $XDG_CACHE_HOME/korthweb, else ~/.cache/korthweb. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KORTHWEB_CACHE_DIR) return env.KORTHWEB_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "korthweb");
}

export interface Binaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  etcd: string;
  kwok: string;
  kwokctl: string;
  kubectl: string;
}

/** Folders of the two wrapper modules (each holds go.mod and bin/), per pinned version. */
export const buildDirs = (root = cacheRoot()) => ({
  controlPlane: join(root, "control-plane", pins.cluster.kubernetes),
  etcd: join(root, "etcd", pins.cluster.etcd),
  crds: join(root, "crds"),
});

export function binaries(root = cacheRoot()): Binaries {
  const dirs = buildDirs(root);
  return {
    kubeApiserver: join(dirs.controlPlane, "bin", "kube-apiserver"),
    kubeControllerManager: join(dirs.controlPlane, "bin", "kube-controller-manager"),
    kubeScheduler: join(dirs.controlPlane, "bin", "kube-scheduler"),
    etcd: join(dirs.etcd, "bin", "etcd"),
    kwok: join(toolsBinDir, "kwok"),
    kwokctl: join(toolsBinDir, "kwokctl"),
    kubectl: join(toolsBinDir, "kubectl"),
  };
}

export interface ClusterLayout {
  /** kwokctl's cluster name; the kube context is "kwok-<name>". */
  name: string;
  /** Everything of the running cluster. */
  dir: string;
  kubeconfig: string;
  /** KWOK_WORKDIR: kwokctl keeps each cluster under <this>/clusters/<name> (PIDs, logs, etcd data, PKI). */
  kwokWorkDir: string;
  /** The KwokctlConfiguration we write (binaries, ports on 127.0.0.1). */
  configFile: string;
}

export const defaultClusterName = "korthweb";

export function clusterLayout(dir = join(workDir, "cluster"), name = defaultClusterName): ClusterLayout {
  return {
    name,
    dir,
    kubeconfig: join(dir, "kubeconfig"),
    kwokWorkDir: join(dir, "kwok"),
    configFile: join(dir, "kwokctl.yaml"),
  };
}

export const contextName = (layout: ClusterLayout) => `kwok-${layout.name}`;
export const clusterFolder = (layout: ClusterLayout) => join(layout.kwokWorkDir, "clusters", layout.name);
