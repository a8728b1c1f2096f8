// Runs external tools (helm, kubectl, …) with the command line logged, so a
// user can re-run any step by hand. Output is captured; failures carry the
// tool's own message.
import { $ } from "zx";
import { TaskError } from "./errors.ts";
import { log } from "./log.ts";

export interface RunOptions {
  /** Text piped to the tool's standard input (manifests, secrets: never argv). */
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Do not throw when the tool exits non-zero. */
  allowFailure?: boolean;
  /** Do not print the command line (for polling loops). */
  silent?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const needsQuoting = /[^\w@%+=:,./-]/;
export function quoteArg(arg: string): string {
  return arg === "" || needsQuoting.test(arg) ? `'${arg.replaceAll("'", `'\\''`)}'` : arg;
}

export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map(quoteArg).join(" ");
}

export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (!options.silent) log.command(commandLine(displayName(command), args));
  const shell = $({
    quiet: true,
    nothrow: true,
    input: options.input ?? "",
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
  });
  let output;
  try {
    output = await shell`${command} ${args}`;
  } catch (error) {
    throw new TaskError(`could not start ${displayName(command)}: ${(error as Error).message}`, {
      code: "missingTool",
      hint: "run `make setup`, which installs the pinned tools into .tools/bin",
      cause: error,
    });
  }
  const result: RunResult = { stdout: output.stdout, stderr: output.stderr, exitCode: output.exitCode ?? 1 };
  if (result.exitCode !== 0 && !options.allowFailure) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-8).join("\n    ");
    throw new TaskError(`${displayName(command)} ${args[0] ?? ""} failed (exit ${result.exitCode}):\n    ${detail}`);
  }
  return result;
}

// Log `helm`, not `/work/…/.tools/bin/helm`: shorter, and what a user types.
function displayName(command: string): string {
  return command.includes("/.tools/bin/") ? command.slice(command.lastIndexOf("/") + 1) : command;
}
