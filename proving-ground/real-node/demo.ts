// `make demo`: what the product is for, on this machine. It brings up the
// embedded real-node cluster (control plane + one real node: containerd,
// kubelet, CoreDNS, MetalLB, a PVC provisioner, the Traefik stand-in), the
// PostgreSQL stand-in, installs the helm approach with the image built here,
// runs `make smoke` against it (discovered from the cluster) and prints the
// endpoints. Each step is the make target a user would run, so a failed step
// can be rerun alone; a second `make demo` reuses what runs. The first run
// builds everything from the Go module proxy and Debian (tens of minutes on 2
// cores): it says what and how long before starting. `make demo-down` ends it.
// The process-level stack without containers is `make local-up`.
// `make demo-down` is demo-down.ts.
import { spawn } from "node:child_process";
import { relative } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { log, style } from "../../tasks/lib/log.ts";
import { repoRoot, toolsBinDir } from "../../tasks/lib/paths.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { main, type Task } from "../../tasks/lib/task.ts";
import { clusterLayout } from "../cluster/layout.ts";
import { describePending, pendingBuilds } from "./build-estimate.ts";
import { nodeLayout } from "./layout.ts";
import { readMachineFacts, requireRealNodeMachine } from "./preflight.ts";
import { realNodeDown, realNodeState } from "./real-node.ts";

interface Step {
  title: string;
  command: string;
  args: string[];
}

const shown = (step: Step) => [step.command === process.execPath ? "node" : step.command, ...step.args].join(" ");

/** Runs one step with its output on the terminal; a failure names the step and how to rerun it. */
function runStep(step: Step, env: Record<string, string>): Promise<number> {
  const started = Date.now();
  log.step(step.title);
  log.command(shown(step));
  return new Promise((resolve, reject) => {
    const child = spawn(step.command, step.args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", (error) => reject(new TaskError(`${step.title}: could not start ${step.command}: ${error.message}`)));
    child.on("exit", (code) => {
      if (code === 0) return resolve((Date.now() - started) / 1000);
      reject(
        new TaskError(`${step.title} failed (exit ${code}); the steps before it stay up`, {
          hint: `rerun it alone: KUBECONFIG=${env.KUBECONFIG} ${shown(step)}; or make demo again; make demo-down ends everything`,
        }),
      );
    });
  });
}

const make = (target: string, ...vars: string[]) => ({ command: "make", args: ["-s", "--no-print-directory", target, ...vars] });

export const task: Task = {
  id: "real-node/demo",
  title: "The helm approach on the embedded real-node cluster, smoke-tested",
  summary:
    "Starts the real-node cluster (make cluster-up ARGS=--real-node: builds once from the Go module proxy and Debian, cached), the PostgreSQL stand-in, " +
    "installs the orthanc chart with the image built here (make helm-install ARGS=--skip-upstream VALUES=…), runs make smoke against it (found in the cluster) " +
    "and prints the endpoints. Needs root and overlayfs; elsewhere it stops before changing anything and says why (make local-up runs Orthanc without containers). " +
    "make demo-down stops it and restores the host.",
  run: async (ctx) => {
    requireRealNodeMachine(await readMachineFacts());
    const cluster = clusterLayout();
    const kubeconfig = cluster.kubeconfig;
    const valuesFile = nodeLayout(cluster.dir).valuesFile;
    const env = { KUBECONFIG: kubeconfig };
    log.info(describePending(pendingBuilds()));
    const steps: Step[] = [
      { title: "1/4 the embedded cluster with its real node", ...make("cluster-up", "ARGS=--real-node") },
      { title: "2/4 PostgreSQL (stand-in for bitnami's chart)", command: process.execPath, args: ["proving-ground/real-node/postgresql.ts"] },
      { title: "3/4 the helm approach: orthanc chart with the image built here", ...make("helm-install", "ARGS=--skip-upstream", `VALUES=${relative(repoRoot, valuesFile)}`) },
      { title: "4/4 make smoke: TLS, REST, DICOM C-ECHO/C-STORE round trip, found from the cluster", ...make("smoke", "ARGS=--target kube") },
    ];
    if (ctx.dryRun) {
      for (const step of steps) log.info(`${style.yellow("[dry-run]")} ${step.title}: ${shown(step)}`);
      return;
    }
    const seconds: number[] = [];
    for (const step of steps) seconds.push(await runStep(step, env));
    const address = (await run(`${toolsBinDir}/kubectl`, ["--kubeconfig", kubeconfig, "-n", "traefik", "get", "service", "traefik", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"], { silent: true })).stdout.trim();
    const namespace = defaults.namespaces.orthanc;
    const kube = relative(repoRoot, kubeconfig);
    log.ok(`demo up in ${seconds.reduce((sum, step) => sum + step, 0).toFixed(0)} s (${steps.map((step, index) => `${step.title.split(" ")[0]} ${seconds[index]!.toFixed(0)} s`).join(", ")})`);
    for (const line of [
      `  HTTPS (REST, Orthanc Explorer)  https://${address}:443  (SNI/Host web.${ctx.settings.domain}; curl --resolve web.${ctx.settings.domain}:443:${address})`,
      `  DICOM over TLS, mutual          ${address}:11112  (name dicom.${ctx.settings.domain}, AE title ORTHANC; a modality needs a certificate: make modality-cert NAME=my-scanner ARGS="--approach helm")`,
      `  CA certificate                  kubectl -n ${namespace} get secret orthanc-tls -o jsonpath='{.data.ca\\.crt}' | base64 -d`,
      `  login (username, password)      kubectl -n ${namespace} get secret orthanc-admin -o go-template='{{.data.username|base64decode}} {{.data.password|base64decode}}'`,
      `  kube context                    export KUBECONFIG=$PWD/${kube}`,
      `  check again                     make smoke ARGS=--target kube   (with that KUBECONFIG)`,
      `  back up                         make backup TARGET=kube`,
      `  stop                            make demo-down   (stops the cluster, deletes its data, restores the host)`,
    ])
      log.plain(line);
  },
};

export const downTask: Task = {
  id: "real-node/demo-down",
  title: "Stop the demo: the real-node cluster and everything in it",
  summary:
    "Stops the real-node cluster of make demo (pods, node, control plane) and undoes every change cluster-up made to the host. " +
    "The demo's data lives in the cluster's volumes and goes with it: make backup TARGET=kube first to keep it.",
  run: async (ctx) => {
    const cluster = clusterLayout();
    if (realNodeState(cluster) === "absent") {
      log.ok(`no demo is running (no real node in ${relative(repoRoot, nodeLayout(cluster.dir).dir)}); nothing changed`);
      return;
    }
    if (ctx.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would stop cluster ${cluster.name} and its real node, delete its data and restore the host`);
      return;
    }
    const left = await realNodeDown(cluster);
    if (left.length) throw new TaskError(`the demo stopped, but the host still differs from before: ${left.join("; ")}`, { hint: "see docs/cluster.md, Troubleshooting" });
    log.ok("demo stopped; host restored");
  },
};

if (import.meta.main) await main("demo", [task]);
