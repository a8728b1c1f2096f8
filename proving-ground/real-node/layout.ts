// Where the real node keeps things and which addresses it uses. Built
// binaries and images are caches outside the repository; everything the
// running node writes (containerd's root and state, kubelet's root, CNI state,
// logs, PIDs) lives under the cluster's work folder so nothing collides with
// another containerd or kubelet on the machine, and teardown knows what to undo.
import { join } from "node:path";
import { workDir } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { cacheRoot } from "../cluster/layout.ts";

/**
 * Addresses (never 10/8, 172.16/12, 192.168/16). The host's own uplink may already sit in 192.0.2.0/24,
 * so the node takes a /28 at the top of it, routed to its own dummy interface: node IP and
 * LoadBalancer pool never reach the wire even if a rule is missing.
 */
export const addresses = {
  /** The interface carrying the node IP (and the route for the LoadBalancer pool): one end of a veth pair. */
  nodeLink: "kwnode0",
  nodePeerLink: "kwnode1",
  nodeIp: "192.0.2.254",
  /** Routed to nodeLink: node IP and MetalLB's pool live here. */
  nodeRange: "192.0.2.240/28",
  loadBalancerPool: "192.0.2.241-192.0.2.250",
  /** The CNI bridge and the pods behind it (host-local IPAM). */
  bridge: "kwcni0",
  podCidr: "198.18.0.0/24",
  podGateway: "198.18.0.1",
  /** Services; the first address is the API server's Service, .10 the cluster DNS. */
  serviceCidr: "198.19.0.0/24",
  apiServiceIp: "198.19.0.1",
  dnsServiceIp: "198.19.0.10",
  clusterDomain: "cluster.local",
} as const;

export const nodeName = "korthweb-node";

export interface NodeLayout {
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  containerdConfig: string;
  kubeletRoot: string;
  kubeletConfig: string;
  kubeProxyConfig: string;
  cniConfDir: string;
  cniStateDir: string;
  /** resolv.conf handed to pods with dnsPolicy Default (and CoreDNS): no host resolver leaks into the cluster. */
  resolvConf: string;
  logs: string;
  pids: string;
  /** What cluster-up changed on the host, for cluster-down to undo (sysctl values before). */
  hostChanges: string;
  valuesFile: string;
  /** The images cluster-up imported (short name → image), for the stand-ins applied later. */
  images: string;
}

/** The node's folder sits inside the cluster's folder (.work/cluster/real-node). */
export function nodeLayout(clusterDir = join(workDir, "cluster")): NodeLayout {
  const dir = join(clusterDir, "real-node");
  return {
    dir,
    containerdRoot: join(dir, "containerd", "root"),
    containerdState: join(dir, "containerd", "state"),
    containerdSocket: join(dir, "containerd", "containerd.sock"),
    containerdConfig: join(dir, "containerd", "config.toml"),
    kubeletRoot: join(dir, "kubelet"),
    kubeletConfig: join(dir, "kubelet-config.yaml"),
    kubeProxyConfig: join(dir, "kube-proxy-config.yaml"),
    cniConfDir: join(dir, "cni", "net.d"),
    cniStateDir: join(dir, "cni", "state"),
    resolvConf: join(dir, "resolv.conf"),
    logs: join(dir, "logs"),
    pids: join(dir, "pids"),
    hostChanges: join(dir, "host-changes.json"),
    valuesFile: join(clusterDir, "real-node.values.yaml"),
    images: join(dir, "images.yaml"),
  };
}

/** Built once per pin, shared by every worktree: kubelet and kube-proxy, the system components, images. */
export const nodeCache = (root = cacheRoot()) => ({
  node: join(root, "node", pins.cluster.kubernetes),
  modules: join(root, "modules"),
  images: join(root, "images"),
  pause: join(root, "pause"),
});
