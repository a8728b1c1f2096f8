// `make cluster-up`: a real Kubernetes control plane on this machine, with
// simulated nodes, for running the install tasks without a cloud: builds the
// binaries once (proving-ground/cluster/build.ts), starts them on 127.0.0.1 through
// kwokctl, adds nodes, installs the CRDs our objects need, and prints how long
// each part took and how to point kubectl, helm and the tasks at it.
import { relative } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { log, style } from "../../tasks/lib/log.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { buildAll, describeBuild } from "./build.ts";
import { clusterState, components, describeComponents, startCluster, stopCluster } from "./cluster.ts";
import { binaries, clusterLayout, contextName, type ClusterLayout } from "./layout.ts";
import { realNodeUp, realNodeUsage } from "../real-node/real-node.ts";
import { extrasHelp, parseExtras } from "../real-node/extras.ts";

export const defaultNodes = 3;

export function parseNodes(raw: unknown): number {
  if (raw === undefined) return defaultNodes;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new TaskError(`invalid --nodes "${String(raw)}": expected a whole number from 1 to 100`, { code: "usage" });
  }
  return value;
}

export const usage = (layout: ClusterLayout): string[] => {
  const kubeconfig = relative(repoRoot, layout.kubeconfig);
  return [
    `  kubeconfig   ${kubeconfig} (context ${contextName(layout)}; your ~/.kube/config is not touched)`,
    `  use it       export KUBECONFIG=$PWD/${kubeconfig}`,
    `  then         kubectl get nodes;  make helm-install ARGS=--skip-upstream`,
    `  stop         make cluster-down`,
  ];
};

export const task: Task = {
  id: "cluster/up",
  title: "Simulated cluster: build, start, nodes, CRDs",
  summary:
    "Builds (once, cached outside the repository) kube-apiserver, kube-controller-manager and kube-scheduler from k8s.io/kubernetes, etcd, kwok and kwokctl at the pinned versions from the Go module proxy; starts them as local processes listening on 127.0.0.1 (kwokctl, runtime binary), adds simulated nodes on which pods become Ready, installs CRDs generated from the kubernetes-models schemas, and writes a kubeconfig to .work/cluster/kubeconfig. Prints the build and start times. Already running: says so and changes nothing.",
  flags: {
    nodes: { type: "string", description: `number of simulated nodes (default ${defaultNodes})` },
    "real-node": { type: "boolean", description: "one real node instead of simulated ones: kubelet, kube-proxy, containerd, CNI, CoreDNS, MetalLB, a PVC provisioner, the Traefik stand-in (root, overlayfs; docs/cluster.md)" },
    with: { type: "string", description: `with --real-node: ${extrasHelp}` },
  },
  run: async (ctx) => {
    const layout = clusterLayout();
    if (ctx.flags.with !== undefined && !ctx.flags["real-node"]) throw new TaskError("--with adds extras to the real node: give --real-node too", { code: "usage" });
    const extras = parseExtras(ctx.flags.with);
    if (ctx.flags["real-node"]) {
      if (ctx.flags.nodes !== undefined) throw new TaskError("--nodes and --real-node do not go together: the real node is one node", { code: "usage" });
      if (ctx.dryRun) {
        log.info(`${style.yellow("[dry-run]")} would build the control plane, kubelet, kube-proxy, system components${extras.length ? `, ${extras.map((extra) => extra.name).join(", ")}` : ""} and images if needed, then start cluster ${layout.name} with one real node`);
        return;
      }
      const report = await realNodeUp(layout, extras);
      if (report) {
        const figures = Object.entries(report.seconds).map(([part, seconds]) => `${part} ${seconds.toFixed(1)}s`).join(", ");
        log.ok(`cluster ${layout.name} up with a real node (${figures})`);
        for (const line of describeComponents(components(layout, binaries()))) log.info(line);
      }
      for (const line of realNodeUsage(layout)) log.plain(line);
      return;
    }
    const nodes = parseNodes(ctx.flags.nodes);
    if (ctx.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would build the binaries if needed, start cluster ${layout.name} with ${nodes} nodes, install the CRDs, write ${relative(repoRoot, layout.kubeconfig)}`);
      return;
    }
    const build = await buildAll();
    log.ok(describeBuild(build));
    const state = clusterState(layout, build.binaries);
    if (state === "running") {
      log.ok(`cluster ${layout.name} is already running:`);
      for (const line of describeComponents(components(layout, build.binaries))) log.info(line);
      for (const line of usage(layout)) log.plain(line);
      return;
    }
    if (state === "stale") {
      log.warn(`cluster ${layout.name} was left half-running (a process exited, or the machine restarted): deleting it and starting afresh`);
      await stopCluster(layout, build.binaries);
    }
    const report = await startCluster(layout, build.binaries, nodes);
    log.ok(
      `cluster ${layout.name} up: started in ${report.seconds.start.toFixed(1)}s, ${nodes} nodes in ${report.seconds.nodes.toFixed(1)}s, ` +
        `${report.crdCount} CRDs ${report.crdsGenerated ? "generated and " : ""}installed in ${report.seconds.crds.toFixed(1)}s`,
    );
    for (const line of describeComponents(report.components)) log.info(line);
    for (const line of usage(layout)) log.plain(line);
  },
};

if (import.meta.main) await main("cluster-up", [task]);
