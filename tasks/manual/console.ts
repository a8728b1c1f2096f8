// `make manual-grafana` / `make manual-kiali`: a port-forward on 127.0.0.1 to
// Grafana or Kiali, the URL, and how to log in. Runs until Ctrl-C.
import { spawn } from "node:child_process";
import { TaskError } from "../lib/errors.ts";
import { commandLine } from "../lib/exec.ts";
import { log, style } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { requireToolPath } from "../lib/tools.ts";
import { consoles, secrets } from "./layout.ts";

export type ConsoleName = keyof typeof consoles;

export function consoleName(raw: unknown): ConsoleName {
  if (raw === "grafana" || raw === "kiali") return raw;
  throw new TaskError(`--open ${String(raw ?? "")}: expected grafana or kiali`, { code: "usage" });
}

export function portForwardArgs(name: ConsoleName, context: string | undefined): string[] {
  const target = consoles[name];
  return [...(context ? ["--context", context] : []), "port-forward", "--address", "127.0.0.1", "-n", target.namespace, `service/${target.service}`, `${target.localPort}:${target.servicePort}`];
}

export const consoleUrl = (name: ConsoleName) => `http://127.0.0.1:${consoles[name].localPort}${consoles[name].path}`;

export function loginHint(name: ConsoleName): string[] {
  if (name === "grafana") {
    return [
      "log in as admin; the password:",
      `  kubectl -n ${secrets.grafana.namespace} get secret ${secrets.grafana.name} -o jsonpath='{.data.admin-password}' | base64 -d; echo`,
      "dashboards: Orthanc (ours), Istio/ (mesh, service, workload)",
    ];
  }
  return ["log in with a token (valid for an hour):", `  kubectl -n ${consoles.kiali.namespace} create token kiali-service-account --duration 1h`];
}

export const task: Task = {
  id: "manual/console",
  title: "Open Grafana or Kiali through a port-forward",
  summary: "Port-forwards Grafana (monitoring/kube-prometheus-stack-grafana) or Kiali (istio-system/kiali) to 127.0.0.1 only, prints the URL and how to log in, and keeps running until Ctrl-C.",
  flags: { open: { type: "string", description: "grafana or kiali" } },
  run: async (ctx) => {
    const name = consoleName(ctx.flags.open);
    const args = portForwardArgs(name, ctx.settings.kubeContext);
    if (ctx.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would run: ${commandLine("kubectl", args)}`);
      log.info(`then open ${consoleUrl(name)}`);
      return;
    }
    log.command(commandLine("kubectl", args));
    const child = spawn(requireToolPath("kubectl"), args, { stdio: ["ignore", "pipe", "inherit"] });
    let announced = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (announced || !chunk.toString().includes("Forwarding from")) return;
      announced = true;
      log.ok(`${name}: ${style.bold(consoleUrl(name))}   (Ctrl-C to stop)`);
      for (const line of loginHint(name)) log.info(line);
    });
    process.once("SIGINT", () => child.kill("SIGINT"));
    const code = await new Promise<number>((resolve) => child.on("close", (exit) => resolve(exit ?? 0)));
    if (code !== 0 && !announced) throw new TaskError(`kubectl port-forward exited with ${code}`, { hint: `is ${name} installed? node tasks/manual/08-observability.ts` });
  },
};

if (import.meta.main) await main("manual-console", [task]);
