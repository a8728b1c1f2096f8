// `make cluster-down`: stops the simulated cluster and deletes its state
// (etcd data, PKI, logs, kubeconfig). kwokctl stops the processes; we then
// wait for each recorded PID to exit. The built binaries stay in the cache.
import { log, style } from "../../tasks/lib/log.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { clusterState, stopCluster } from "./cluster.ts";
import { binaries, clusterLayout } from "./layout.ts";
import { realNodeDown, realNodeState } from "../real-node/real-node.ts";
import { TaskError } from "../../tasks/lib/errors.ts";

export const task: Task = {
  id: "cluster/down",
  title: "Stop the simulated cluster",
  summary:
    "Deletes the simulated cluster started by make cluster-up: kwokctl stops etcd, the control plane and kwok, then every recorded PID is waited for (SIGKILL after 30 s). Its state under .work/cluster goes with it; the built binaries stay cached for the next make cluster-up. Nothing running: says so.",
  run: async (ctx) => {
    const layout = clusterLayout();
    const bins = binaries();
    if (ctx.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would delete cluster ${layout.name} and wait for its processes to exit`);
      return;
    }
    if (realNodeState(layout) !== "absent") {
      const differences = await realNodeDown(layout);
      if (differences.length) throw new TaskError(`cluster ${layout.name} stopped, but the host differs from before cluster-up in ${differences.length} points (listed above)`, { hint: "see docs/cluster.md, Troubleshooting" });
      log.ok(`cluster ${layout.name} and its real node stopped; the host is as before cluster-up`);
      return;
    }
    if (clusterState(layout, bins) === "absent") {
      log.ok(`cluster ${layout.name} is not running`);
      return;
    }
    const stopped = await stopCluster(layout, bins);
    log.ok(`cluster ${layout.name} deleted; stopped ${stopped.map((component) => `${component.name} (pid ${component.pid})`).join(", ") || "no running process"}`);
  },
};

if (import.meta.main) await main("cluster-down", [task]);
