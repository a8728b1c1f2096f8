// What every test file that runs a real node shares: whether this machine can
// (in CI a machine that cannot FAILS the file with the reason; elsewhere it is
// skipped with the reason printed), and a session of its own — a private work
// folder (its own cluster state, and no local-stack target for `make smoke` to
// pick instead), the cluster's kubeconfig, the make targets and kubectl run as
// a user runs them, the real-node lock, and the host state recorded before.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { run, type RunResult } from "../../tasks/lib/exec.ts";
import { fromRoot, repoRoot, toolsBinDir } from "../../tasks/lib/paths.ts";
import { diffHostState, readHostState, type HostState } from "../../proving-ground/real-node/host-state.ts";
import { nodeLayout } from "../../proving-ground/real-node/layout.ts";
import { missingForRealNode, readMachineFacts } from "../../proving-ground/real-node/preflight.ts";
import { holdRealNodeLock, type HeldLock } from "./real-node-lock.ts";

/** Why this machine cannot run a real node (empty: it can). In CI that fails the file; elsewhere the file is skipped, saying why. */
export async function realNodeBlockers(): Promise<string[]> {
  const blockers = missingForRealNode(await readMachineFacts());
  const inCi = process.env.CI === "true";
  if (blockers.length && !inCi) console.warn(`real-node tier skipped: this machine cannot run a real node: ${blockers.join("; ")}`);
  describe.runIf(blockers.length && inCi)("real-node tier in CI", () => {
    it("runs (it cannot on this machine)", () => {
      throw new Error(`the real-node tier must run in CI, but this machine cannot run a real node: ${blockers.join("; ")}`);
    });
  });
  return blockers;
}

/** The tasks print progress and summaries on stderr, results of commands on stdout: read both. */
export const printed = (result: RunResult) => `${result.stdout}\n${result.stderr}`;
/** The last lines of both, for an assertion's message. */
export const output = (result: RunResult) => printed(result).trim().split("\n").slice(-40).join("\n");

export class RealNodeSession {
  readonly work: string;
  readonly clusterDir: string;
  readonly kubeconfig: string;
  /** The values file cluster-up writes for helm/orthanc (the locally built image). */
  readonly valuesFile: string;
  readonly env: Record<string, string>;
  /** The host as it was before this session's cluster-up. */
  before: HostState | undefined;
  /** Seconds the session waited for another test file's real node. */
  waitedSeconds = 0;
  /** Set once cluster-up ran: close() then runs cluster-down. */
  up = false;
  /** Seconds each timed step took, for the file's figures line. */
  readonly timings: Record<string, number> = {};
  private lock: HeldLock | undefined;

  constructor(prefix: string) {
    this.work = mkdtempSync(join(tmpdir(), prefix));
    this.clusterDir = join(this.work, "cluster");
    this.kubeconfig = join(this.clusterDir, "kubeconfig");
    this.valuesFile = nodeLayout(this.clusterDir).valuesFile;
    this.env = { KORTHWEB_WORK_DIR: this.work, KUBECONFIG: this.kubeconfig, NO_COLOR: "1" };
  }

  /** Waits until no other test file runs a real node, holds the lock, records the host. */
  async open(timeoutMs = 3_600_000): Promise<void> {
    this.lock = await holdRealNodeLock(timeoutMs);
    this.waitedSeconds = this.lock.waitedSeconds;
    this.before = await readHostState();
  }

  /** Whatever happened, the node goes down before the lock is released; the work folder goes. */
  async close(): Promise<void> {
    if (this.up) await this.make("cluster-down");
    this.lock?.release();
    rmSync(this.work, { recursive: true, force: true });
  }

  // Arrow properties: test files take them apart (`const { make, kubectl } = session`).
  make = (target: string, vars: Record<string, string> = {}): Promise<RunResult> =>
    run("make", ["-s", "--no-print-directory", target, ...Object.entries(vars).map(([key, value]) => `${key}=${value}`)], { cwd: repoRoot, env: this.env, allowFailure: true, silent: true, timeoutMs: 1_800_000 });

  node = (script: string, args: string[] = []): Promise<RunResult> =>
    run(process.execPath, [fromRoot(script), ...args], { cwd: repoRoot, env: this.env, allowFailure: true, silent: true, timeoutMs: 900_000 });

  /** kubectl against the session's cluster, with stdin when given (objects made up by a test). */
  kubectl = (args: string[], input?: string): Promise<RunResult> =>
    run(join(toolsBinDir, "kubectl"), args, { env: this.env, allowFailure: true, silent: true, timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });

  kubectlJson = async <T>(args: string[]): Promise<T> => {
    const result = await this.kubectl([...args, "-o", "json"]);
    if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };

  /** Runs a step and records its seconds under `name` in `timings`. */
  timed = async <T>(name: string, action: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await action();
    this.timings[name] = (Date.now() - started) / 1000;
    return result;
  };

  /** `make <target>` (cluster-down, demo-down) as the file's last step: its result and how the host now differs from before. */
  async bringDown(target = "cluster-down"): Promise<{ result: RunResult; hostDifferences: string[] }> {
    const result = await this.timed(target === "cluster-down" ? "clusterDown" : "demoDown", () => this.make(target));
    this.up = false;
    return { result, hostDifferences: diffHostState(this.before!, await readHostState()) };
  }
}
