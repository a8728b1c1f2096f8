// What one stored instance costs each component on the real node, in CPU
// time from cgroup v1 accounting (cpuacct.usage of each pod): Orthanc,
// Traefik and PostgreSQL, while N small instances are C-STOREd through
// Traefik over mutual TLS. Unlike throughput, this does not depend on how
// busy the machine is. Run on the real-node cluster after make helm-install:
//   node proving-ground/real-node/cost.ts [--count 300] [--concurrency 4]
import { TaskError } from "../../tasks/lib/errors.ts";
import { log } from "../../tasks/lib/log.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { benchPaths, deleteRun, runOurs } from "../../smoke/bench.ts";
import { discoverTarget, TargetOptions } from "../../smoke/discover.ts";
import { localTargetFile } from "../../smoke/target.ts";
import { podCpuSeconds } from "./figures.ts";

/** The pods whose CPU time is counted, per component. */
export const costedComponents = [
  { component: "Orthanc", namespace: "orthanc", selector: "app.kubernetes.io/name=orthanc" },
  { component: "Traefik", namespace: "traefik", selector: "app.kubernetes.io/name=traefik" },
  { component: "PostgreSQL", namespace: "orthanc", selector: "app.kubernetes.io/name=postgresql" },
] as const;

export interface ComponentCost {
  component: string;
  pods: number;
  cpuSeconds: number;
  msPerInstance: number;
}

/** CPU milliseconds per instance from the CPU seconds each component used while `stored` instances went in. */
export function costPerInstance(used: readonly { component: string; pods: number; cpuSeconds: number }[], stored: number): ComponentCost[] {
  if (stored <= 0) throw new Error("no instance was stored: no cost per instance");
  return used.map((entry) => ({ ...entry, msPerInstance: (entry.cpuSeconds * 1000) / stored }));
}

export const task: Task = {
  id: "real-node/cost",
  cluster: true,
  title: "CPU time per stored instance, per component (cgroup accounting)",
  summary:
    "C-STOREs N small instances through Traefik (mutual TLS) to the helm approach on the real node and reads each pod's cpuacct.usage before and after: " +
    "CPU milliseconds per stored instance for Orthanc, Traefik and PostgreSQL. Deletes what it stored. Needs the real node's cgroups (run on the node's host).",
  flags: {
    count: { type: "string", description: "instances to store (default 300)" },
    concurrency: { type: "string", description: "concurrent associations (default 4)" },
  },
  run: async (ctx) => {
    const count = Number(ctx.flags.count ?? 300);
    const concurrency = Number(ctx.flags.concurrency ?? 4);
    if (!Number.isInteger(count) || count < 10) throw new TaskError(`invalid --count "${String(ctx.flags.count)}": expected a whole number ≥ 10`, { code: "usage" });
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new TaskError(`invalid --concurrency "${String(ctx.flags.concurrency)}": expected 1–64`, { code: "usage" });
    const pods: { component: string; uids: string[] }[] = [];
    for (const entry of costedComponents) {
      const { stdout } = await ctx.kube.kubectl(["-n", entry.namespace, "get", "pods", "-l", entry.selector, "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.uid}"], { silent: true });
      const uids = stdout.split(/\s+/).filter(Boolean);
      if (uids.length === 0) throw new TaskError(`no ${entry.component} pod (${entry.namespace}, ${entry.selector}): install the helm approach on the real node first`, { code: "usage" });
      pods.push({ ...entry, uids });
    }
    const cpu = () =>
      pods.map((entry) => {
        const seconds = entry.uids.map((uid) => podCpuSeconds(uid));
        if (seconds.some((value) => value === undefined)) throw new TaskError(`no cpuacct cgroup for a ${entry.component} pod on this host: run this where the real node runs`);
        return (seconds as number[]).reduce((sum, value) => sum + value, 0);
      });
    const { target } = await discoverTarget(new TargetOptions({ target: "kube" }), ctx.settings, ctx.kube, localTargetFile());
    const [ingress] = benchPaths({ target, callingAet: target.callingAet, caFile: target.caFile });
    const runId = `KORTHWEB-COST-${process.pid}`;
    const before = cpu();
    const stored = await runOurs(ingress!, { name: "small", pixelBytes: 1024, count }, concurrency, target.calledAet, runId);
    const after = cpu();
    await deleteRun(target, runId, concurrency);
    if (stored.failures) throw new TaskError(`${stored.failures} of ${count} stores failed${stored.note ? `: ${stored.note}` : ""}`);
    const costs = costPerInstance(
      pods.map((entry, index) => ({ component: entry.component, pods: entry.uids.length, cpuSeconds: after[index]! - before[index]! })),
      count,
    );
    log.ok(`${count} instances (${stored.instanceBytes} bytes each) stored through Traefik in ${stored.seconds.toFixed(1)} s (${stored.instancesPerSecond.toFixed(0)}/s), concurrency ${concurrency}`);
    for (const cost of costs) log.plain(`  cost: ${cost.component.padEnd(10)} ${cost.msPerInstance.toFixed(2)} ms CPU per instance (${cost.cpuSeconds.toFixed(2)} s over ${cost.pods} pod${cost.pods === 1 ? "" : "s"})`);
  },
};

if (import.meta.main) await main(task.id, [task]);
