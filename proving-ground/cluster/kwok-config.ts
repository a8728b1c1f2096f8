// The KwokctlConfiguration that makes `kwokctl create cluster` run our own
// binaries as local processes (runtime "binary"), offline, every port on
// 127.0.0.1 (kwokctl's default is 0.0.0.0), its downloads cache in the
// cluster's folder. Ports are left to kwokctl (free ones); the kubeconfig says
// where the API server is.
import { stringify } from "yaml";
import { pins } from "../../tasks/lib/settings.ts";
import type { Binaries, ClusterLayout } from "./layout.ts";
import { join } from "node:path";

/** For the real node: where the components listen, the API server certificate's extra names, extra flags, components left out. */
export interface ControlPlaneOptions {
  bindAddress: string;
  certSANs: string[];
  extraArgs: Record<string, Record<string, string>>;
  /** Components kwokctl must not start (the kwok controller would take over the real node). */
  disable: string[];
}

export function kwokctlConfig(layout: ClusterLayout, bins: Binaries, options?: ControlPlaneOptions): string {
  const config = {
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokctlConfiguration",
    options: {
      runtime: "binary",
      kubeVersion: pins.cluster.kubernetes,
      etcdVersion: pins.cluster.etcd.replace(/^v/, ""),
      bindAddress: options?.bindAddress ?? "127.0.0.1",
      ...(options?.certSANs.length ? { kubeApiserverCertSANs: options.certSANs } : {}),
      ...(options?.disable.length ? { disable: options.disable } : {}),
      kubeApiserverBinary: bins.kubeApiserver,
      kubeControllerManagerBinary: bins.kubeControllerManager,
      kubeSchedulerBinary: bins.kubeScheduler,
      kwokControllerBinary: bins.kwok,
      etcdBinary: bins.etcd,
      kubectlBinary: bins.kubectl,
      cacheDir: join(layout.kwokWorkDir, "cache"),
      // Admission on (Pod Security "restricted" checks our pods), authorization RBAC: as a real cluster.
      kubeAdmission: true,
      kubeAuthorization: true,
    },
    ...(options
      ? {
          componentsPatches: Object.entries(options.extraArgs).map(([name, args]) => ({
            name,
            // override: false appends the flag (kwokctl overrides only flags it already sets).
            extraArgs: Object.entries(args).map(([key, value]) => ({ key, value, override: false })),
          })),
        }
      : {}),
  };
  return stringify(config);
}
