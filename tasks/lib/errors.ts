// Failures that a task reports to the user: a message that says what went
// wrong, a hint that says what to do, and an exit code per class of failure so
// that scripts (and tests) can tell them apart.

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2, // invalid flag or value
  missingTool: 3, // a required tool is absent or too old
  kubeContext: 4, // no kube context selected
  kubeUnreachable: 5, // the API server does not answer
  serverTooOld: 6, // Kubernetes older than the supported minimum
  missingCrd: 7, // required CustomResourceDefinitions are not installed
  timeout: 8, // a wait ran out of time
  findings: 9, // validation or audit found problems
  invalidValues: 10, // a values/settings file is malformed
  namespaceTaken: 11, // the namespace belongs to another approach (tasks/lib/namespace-claim.ts)
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export interface TaskErrorOptions {
  code?: ExitCodeName;
  hint?: string;
  cause?: unknown;
}

export class TaskError extends Error {
  readonly code: ExitCodeName;
  readonly hint: string | undefined;

  constructor(message: string, options: TaskErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "TaskError";
    this.code = options.code ?? "failure";
    this.hint = options.hint;
  }

  get exitCode(): number {
    return ExitCode[this.code];
  }
}

export function isTaskError(error: unknown): error is TaskError {
  return error instanceof TaskError;
}

/** The exit code a process should end with for any thrown value. */
export function exitCodeOf(error: unknown): number {
  return isTaskError(error) ? error.exitCode : ExitCode.failure;
}

/** One line (plus an optional hint line) for the end user. */
export function describeError(error: unknown): string {
  if (isTaskError(error)) {
    return error.hint ? `${error.message}\n  → ${error.hint}` : error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
