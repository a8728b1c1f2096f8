// The task runner: every task script (tasks/<approach>/NN-*.ts) and every
// install sequence runs through here, so all of them share --help, --dry-run,
// the settings flags, progress output, and one way of failing (message, hint,
// exit code).
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { describeError, exitCodeOf, TaskError } from "./errors.ts";
import { Helm } from "./helm.ts";
import { Kube } from "./kube.ts";
import { log, style } from "./log.ts";
import { checkCluster, requireCrds } from "./preflight.ts";
import { fromRoot } from "./paths.ts";
import { loadSettings, overrides, type Settings } from "./settings.ts";

export interface FlagSpec {
  type: "string" | "boolean";
  description: string;
}

export type FlagValues = Record<string, string | boolean | undefined>;

export interface TaskContext {
  settings: Settings;
  dryRun: boolean;
  flags: FlagValues;
  kube: Kube;
  helm: Helm;
}

/** CustomResourceDefinitions a task's objects need, and who installs them. */
export interface CrdNeed {
  names: readonly string[];
  hint: string;
}

export interface Task {
  /** "helm/03-traefik": folder and file name without extension. */
  id: string;
  /** One line: what the step achieves. */
  title: string;
  /** A few sentences for --help: what it creates and why. */
  summary: string;
  flags?: Record<string, FlagSpec>;
  /**
   * The task talks to a cluster. Before the first such task the runner checks the kube context,
   * that the API server answers and its version, so a step run alone fails early, cleanly, with
   * its own exit code, before anything is applied.
   */
  cluster?: boolean;
  /** CRDs the task needs when it starts (an earlier step may install them); checked just before it runs. */
  crds?(ctx: TaskContext): CrdNeed | undefined | Promise<CrdNeed | undefined>;
  /**
   * Checks the task's inputs (flags, values files) without a cluster. The runner calls every task's
   * validate before running any task, so bad input stops a sequence before its first change.
   */
  validate?(ctx: TaskContext): Promise<void>;
  run(ctx: TaskContext): Promise<void>;
}

/** The file a task lives in: the kit's tasks/<id>.ts, or the proving ground's when that is where it is. */
export function taskSource(id: string): string {
  const provingGround = `proving-ground/${id}.ts`;
  return existsSync(fromRoot(provingGround)) ? provingGround : `tasks/${id}.ts`;
}

const commonFlags: Record<string, FlagSpec> = {
  help: { type: "boolean", description: "show this help and exit" },
  "dry-run": { type: "boolean", description: "print the ordered plan and the manifests it would apply; touch no cluster" },
};

function allFlags(tasks: readonly Task[]): Record<string, FlagSpec> {
  const flags: Record<string, FlagSpec> = { ...commonFlags };
  for (const item of overrides) flags[item.flag] = { type: "string", description: `${item.description} [env ${item.env}]` };
  for (const task of tasks) Object.assign(flags, task.flags ?? {});
  return flags;
}

export interface ParsedArgs {
  help: boolean;
  dryRun: boolean;
  flags: FlagValues;
}

/** Parse argv strictly: an unknown flag or a missing value is a usage error naming the flag. */
export function parseTaskArgs(argv: readonly string[], tasks: readonly Task[]): ParsedArgs {
  const specs = allFlags(tasks);
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type }])),
      strict: true,
      allowPositionals: false,
    });
    const flags = values as FlagValues;
    return { help: flags.help === true, dryRun: flags["dry-run"] === true, flags };
  } catch (error) {
    throw new TaskError((error as Error).message.replace(/\. To specify.*$/s, ""), {
      code: "usage",
      hint: "see --help for the flags this task takes",
    });
  }
}

export function helpText(name: string, tasks: readonly Task[]): string {
  const lines: string[] = [];
  const [first] = tasks;
  if (tasks.length === 1 && first) {
    lines.push(`${first.id}: ${first.title}`, "", first.summary);
  } else {
    lines.push(`${name}: runs these steps in order (each can also run alone):`);
    tasks.forEach((task, i) => lines.push(`  ${i + 1}. ${task.title}  [${taskSource(task.id)}]`));
  }
  lines.push("", "Flags:");
  for (const [flag, spec] of Object.entries(allFlags(tasks))) {
    // At least one space, also after a long flag name.
    lines.push(`${`  --${flag}${spec.type === "string" ? " VALUE" : ""}`.padEnd(25)} ${spec.description}`);
  }
  return lines.join("\n");
}

export function printPlan(tasks: readonly Task[]): void {
  log.plain(style.bold("Plan (dry run: nothing is changed):"));
  tasks.forEach((task, i) => log.plain(`  ${i + 1}. ${task.title}  [${taskSource(task.id)}]`));
}

/** Run tasks in order with shared settings; returns the process exit code. */
export async function runTasks(name: string, tasks: readonly Task[], argv: readonly string[]): Promise<number> {
  try {
    const args = parseTaskArgs(argv, tasks);
    if (args.help) {
      process.stdout.write(`${helpText(name, tasks)}\n`);
      return 0;
    }
    const stringFlags = Object.fromEntries(
      Object.entries(args.flags).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
    );
    const settings = loadSettings(process.env, stringFlags);
    const ctx: TaskContext = {
      settings,
      dryRun: args.dryRun,
      flags: args.flags,
      kube: new Kube({ context: settings.kubeContext, dryRun: args.dryRun }),
      helm: new Helm({ context: settings.kubeContext, dryRun: args.dryRun }),
    };
    if (args.dryRun) printPlan(tasks);
    for (const task of tasks) await task.validate?.(ctx);
    if (!args.dryRun && tasks.some((task) => task.cluster)) {
      const cluster = await checkCluster(ctx.kube);
      log.info(style.dim(`cluster: context ${cluster.context}, Kubernetes ${cluster.version}`));
    }
    for (const [i, task] of tasks.entries()) {
      log.step(`${tasks.length > 1 ? `${i + 1}/${tasks.length} ` : ""}${task.title}`);
      const need = args.dryRun ? undefined : await task.crds?.(ctx);
      if (need && need.names.length > 0) await requireCrds(ctx.kube, need.names, need.hint);
      await task.run(ctx);
    }
    return 0;
  } catch (error) {
    log.error(describeError(error));
    return exitCodeOf(error);
  }
}

/** Entry point for a script: `if (import.meta.main) await main("helm-install", [task])`. */
export async function main(name: string, tasks: readonly Task[], argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await runTasks(name, tasks, argv);
}
