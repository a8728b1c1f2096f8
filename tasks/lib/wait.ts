// Polls until something is done, with a visible progress line and a timeout
// that says what it was waiting for and the last status it saw.
import { TaskError } from "./errors.ts";
import { progress } from "./log.ts";

export interface CheckResult {
  done: boolean;
  /** Short status for the progress line, e.g. "1/2 replicas available". */
  status: string;
}

export interface WaitOptions {
  /** What is awaited, e.g. "Deployment orthanc/orthanc to be Available". */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Advice printed when the wait times out. */
  hint?: string;
  check(): Promise<CheckResult>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitUntil(options: WaitOptions): Promise<void> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 2_000;
  const deadline = now() + options.timeoutMs;
  const line = progress(`waiting for ${options.what}`, now);
  let lastStatus = "no status yet";
  for (;;) {
    let result: CheckResult;
    try {
      result = await options.check();
    } catch (error) {
      // A failed probe (API hiccup, object not created yet) is a status, not a failure.
      result = { done: false, status: (error as Error).message.split("\n")[0] ?? "check failed" };
    }
    lastStatus = result.status;
    if (result.done) {
      line.done(`${options.what}${result.status ? `: ${result.status}` : ""}`);
      return;
    }
    line.update(result.status);
    if (now() >= deadline) {
      line.fail(`gave up waiting for ${options.what}`);
      throw new TaskError(
        `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${options.what} (last status: ${lastStatus})`,
        { code: "timeout", hint: options.hint ?? "raise the limit with --timeout SECONDS, or inspect the object with kubectl describe" },
      );
    }
    await sleep(Math.min(interval, Math.max(0, deadline - now())));
  }
}
