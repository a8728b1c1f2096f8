// helm, as the tasks use it. `template` and `lint` never touch a cluster and
// also run in dry-run mode; install/uninstall print what they would do.
import { run, commandLine } from "./exec.ts";
import { log, style } from "./log.ts";
import { requireToolPath } from "./tools.ts";

export interface ChartRef {
  /** A local folder ("helm/orthanc") or a remote chart ("oci://…/postgresql", "traefik/traefik"). */
  chart: string;
  /** Pinned chart version; omitted for local charts. */
  version?: string;
  /** Classic repository URL, for charts that are not OCI. */
  repo?: string;
}

export interface ReleaseOptions extends ChartRef {
  release: string;
  namespace: string;
  valuesFiles?: readonly string[];
  /** --set-string pairs (never secrets: they would show in the process list). */
  set?: Record<string, string>;
  createNamespace?: boolean;
  timeoutSeconds?: number;
  /** Let helm wait for resources (we usually wait ourselves, with progress). */
  wait?: boolean;
}

export interface TemplateOptions extends ChartRef {
  release: string;
  namespace: string;
  valuesFiles?: readonly string[];
  set?: Record<string, string>;
  /** Extra --api-versions so capability checks (e.g. monitoring.coreos.com/v1) render. */
  apiVersions?: readonly string[];
  kubeVersion?: string;
}

const chartArgs = (ref: ChartRef) => [ref.chart, ...(ref.version ? ["--version", ref.version] : []), ...(ref.repo ? ["--repo", ref.repo] : [])];
const valueArgs = (files: readonly string[] = [], set: Record<string, string> = {}) => [
  ...files.flatMap((file) => ["-f", file]),
  ...Object.entries(set).flatMap(([key, value]) => ["--set-string", `${key}=${value}`]),
];

export class Helm {
  readonly options: { context: string | undefined; dryRun: boolean };
  constructor(options: { context: string | undefined; dryRun: boolean }) {
    this.options = options;
  }

  private contextArgs(): string[] {
    return this.options.context ? ["--kube-context", this.options.context] : [];
  }

  async template(options: TemplateOptions): Promise<string> {
    const args = [
      "template",
      options.release,
      ...chartArgs(options),
      "--namespace",
      options.namespace,
      ...valueArgs(options.valuesFiles, options.set),
      ...(options.apiVersions ?? []).flatMap((api) => ["--api-versions", api]),
      ...(options.kubeVersion ? ["--kube-version", options.kubeVersion] : []),
    ];
    const { stdout } = await run(requireToolPath("helm"), args, { silent: true });
    return stdout;
  }

  async lint(chart: string, valuesFiles: readonly string[] = []): Promise<string> {
    const { stdout } = await run(requireToolPath("helm"), ["lint", "--strict", chart, ...valueArgs(valuesFiles)], { silent: true });
    return stdout;
  }

  async upgradeInstall(options: ReleaseOptions): Promise<void> {
    const args = [
      "upgrade",
      "--install",
      options.release,
      ...chartArgs(options),
      "--namespace",
      options.namespace,
      ...(options.createNamespace === false ? [] : ["--create-namespace"]),
      ...valueArgs(options.valuesFiles, options.set),
      ...(options.wait ? ["--wait", "--timeout", `${options.timeoutSeconds ?? 600}s`] : []),
      ...this.contextArgs(),
    ];
    if (this.options.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would run: ${commandLine("helm", args)}`);
      return;
    }
    await run(requireToolPath("helm"), args);
    log.ok(`release ${options.namespace}/${options.release} installed or upgraded`);
  }

  async uninstall(release: string, namespace: string): Promise<void> {
    const args = ["uninstall", release, "--namespace", namespace, "--ignore-not-found", "--wait", ...this.contextArgs()];
    if (this.options.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would run: ${commandLine("helm", args)}`);
      return;
    }
    await run(requireToolPath("helm"), args);
    log.ok(`release ${namespace}/${release} removed`);
  }

  /** True when the release exists (any state). Always false in dry-run. */
  async hasRelease(release: string, namespace: string): Promise<boolean> {
    if (this.options.dryRun) return false;
    const result = await run(requireToolPath("helm"), ["status", release, "--namespace", namespace, ...this.contextArgs()], {
      silent: true,
      allowFailure: true,
    });
    return result.exitCode === 0;
  }
}
