// kubectl, as the tasks use it: server-side apply, reads, deletes, and the
// cluster facts preflight needs. In dry-run mode nothing reaches a cluster:
// changes are printed (with the manifests) instead of applied, reads answer
// "unknown".
import { TaskError } from "./errors.ts";
import { run, type RunOptions, type RunResult } from "./exec.ts";
import { log, style } from "./log.ts";
import { describeObject, parseManifests, toYaml, type KubeObject } from "./manifests.ts";
import { requireToolPath } from "./tools.ts";

export const fieldManager = "korthweb";

/**
 * How long a delete waits for its objects (and, foreground, their dependents) to be gone. Without a bound,
 * `kubectl delete --wait` waited 50 minutes for a cluster that had gone away; kubectl then fails with
 * "timed out waiting for the condition", naming what is left.
 */
export const deleteWait = ["--wait=true", "--timeout=600s"];

export interface KubeOptions {
  context: string | undefined;
  dryRun: boolean;
  /** Per-request timeout for reads, e.g. "10s". */
  requestTimeout?: string;
}

export class Kube {
  readonly options: KubeOptions;
  constructor(options: KubeOptions) {
    this.options = options;
  }

  get dryRun(): boolean {
    return this.options.dryRun;
  }

  /** Run kubectl with the selected context. */
  async kubectl(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const context = this.options.context ? ["--context", this.options.context] : [];
    return run(requireToolPath("kubectl"), [...context, ...args], options);
  }

  /** Server-side apply; idempotent, and conflicts with other managers are reported, not overwritten. */
  async apply(manifests: string | readonly KubeObject[], label: string): Promise<void> {
    const yaml = typeof manifests === "string" ? manifests : toYaml(manifests);
    const objects = parseManifests(yaml, label).map((item) => item.object);
    if (objects.length === 0) return;
    if (this.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would apply (server-side) ${label}: ${objects.map(describeObject).join(", ")}`);
      log.plain(yaml.trimEnd().split("\n").map((line) => `    ${line}`).join("\n"));
      return;
    }
    const { stdout } = await this.kubectl(["apply", "--server-side", `--field-manager=${fieldManager}`, "-f", "-"], { input: yaml });
    for (const line of stdout.trim().split("\n").filter(Boolean)) log.ok(line);
  }

  /** The object as JSON, or undefined when it does not exist (or in dry-run). */
  async get<T = KubeObject>(kind: string, name: string, namespace?: string): Promise<T | undefined> {
    if (this.dryRun) return undefined;
    const ns = namespace ? ["-n", namespace] : [];
    const result = await this.kubectl(["get", kind, name, ...ns, "-o", "json", ...this.timeoutArgs()], { allowFailure: true, silent: true });
    if (result.exitCode === 0) return JSON.parse(result.stdout) as T;
    if (/NotFound|not found/.test(result.stderr)) return undefined;
    throw new TaskError(`kubectl get ${kind} ${name} failed: ${result.stderr.trim()}`);
  }

  async list<T = KubeObject>(kind: string, namespace?: string, selector?: string): Promise<T[]> {
    if (this.dryRun) return [];
    const ns = namespace ? ["-n", namespace] : ["--all-namespaces"];
    const sel = selector ? ["-l", selector] : [];
    const { stdout } = await this.kubectl(["get", kind, ...ns, ...sel, "-o", "json", ...this.timeoutArgs()], { silent: true });
    return (JSON.parse(stdout) as { items: T[] }).items;
  }

  async delete(kind: string, name: string, namespace?: string): Promise<void> {
    const ns = namespace ? ["-n", namespace] : [];
    if (this.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would delete ${kind} ${namespace ? `${namespace}/` : ""}${name}`);
      return;
    }
    await this.kubectl(["delete", kind, name, ...ns, "--ignore-not-found", ...deleteWait]);
  }

  /** Delete every object of a kind matching a label selector, and wait until its dependents are gone too (foreground). */
  async deleteSelected(kind: string, selector: string, namespace: string): Promise<void> {
    if (this.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would delete the ${kind} labelled ${selector} in ${namespace}`);
      return;
    }
    await this.kubectl(["delete", kind, "-n", namespace, "-l", selector, "--ignore-not-found", "--cascade=foreground", ...deleteWait]);
  }

  /** Delete what a manifest set defines (reverse order, missing objects ignored). */
  async deleteManifests(manifests: string | readonly KubeObject[], label: string): Promise<void> {
    const yaml = typeof manifests === "string" ? manifests : toYaml([...manifests].reverse());
    if (this.dryRun) {
      const names = parseManifests(yaml, label).map((item) => describeObject(item.object));
      log.info(`${style.yellow("[dry-run]")} would delete ${label}: ${names.join(", ")}`);
      return;
    }
    await this.kubectl(["delete", "--ignore-not-found", ...deleteWait, "-f", "-"], { input: yaml });
  }

  /** The current (or selected) context name, or undefined when none is set. */
  async contextName(): Promise<string | undefined> {
    if (this.options.context) {
      const { stdout } = await this.kubectl(["config", "get-contexts", "-o", "name"], { silent: true, allowFailure: true });
      return stdout.split("\n").includes(this.options.context) ? this.options.context : undefined;
    }
    const result = await run(requireToolPath("kubectl"), ["config", "current-context"], { silent: true, allowFailure: true });
    const name = result.stdout.trim();
    return result.exitCode === 0 && name ? name : undefined;
  }

  /** The API server's version ("v1.35.2"); throws kubeUnreachable when it does not answer. */
  async serverVersion(): Promise<string> {
    const result = await this.kubectl(["version", "-o", "json", "--request-timeout=10s"], { silent: true, allowFailure: true });
    try {
      const parsed = JSON.parse(result.stdout) as { serverVersion?: { gitVersion?: string } };
      if (parsed.serverVersion?.gitVersion) return parsed.serverVersion.gitVersion;
    } catch {
      // fall through: kubectl printed no JSON
    }
    const reason = result.stderr.trim().split("\n").slice(-1)[0] ?? "no answer";
    throw new TaskError(`the Kubernetes API server does not answer: ${reason}`, {
      code: "kubeUnreachable",
      hint: "check the cluster is running and `kubectl cluster-info` works with this context (VPN, kubeconfig server address)",
    });
  }

  /** Names of CustomResourceDefinitions, out of `names`, that the cluster lacks. */
  async missingCrds(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const result = await this.kubectl(["get", "--raw", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "--request-timeout=15s"], {
      silent: true,
      allowFailure: true,
    });
    if (result.exitCode !== 0) throw new TaskError(`cannot list CRDs: ${result.stderr.trim()}`, { code: "kubeUnreachable" });
    const present = new Set((JSON.parse(result.stdout) as { items: { metadata: { name: string } }[] }).items.map((crd) => crd.metadata.name));
    return names.filter((name) => !present.has(name));
  }

  private timeoutArgs(): string[] {
    return [`--request-timeout=${this.options.requestTimeout ?? "20s"}`];
  }
}
