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

/** The parts of a release (as `helm status -o json` and `helm upgrade --dry-run -o json` print it) that an upgrade would change. */
interface HelmRelease {
  info?: { status?: string };
  manifest?: string;
  config?: unknown;
  hooks?: { manifest?: string }[];
}

/** Manifest, hook manifests and user values, key order normalised. */
export function releaseFingerprint(release: HelmRelease): string {
  const sortKeys = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sortKeys)
      : value && typeof value === "object"
        ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]))
        : value;
  const hooks = (release.hooks ?? []).map((hook) => hook.manifest ?? "").sort();
  return JSON.stringify({ manifest: release.manifest ?? "", hooks, config: sortKeys(release.config ?? {}) });
}

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

  /** `helm upgrade --install` arguments, before --dry-run / context. */
  private upgradeArgs(options: ReleaseOptions): string[] {
    return [
      "upgrade",
      "--install",
      options.release,
      ...chartArgs(options),
      "--namespace",
      options.namespace,
      ...(options.createNamespace === false ? [] : ["--create-namespace"]),
      ...valueArgs(options.valuesFiles, options.set),
    ];
  }

  /**
   * Installs or upgrades the release — unless it is deployed and an upgrade would change neither its
   * manifest, its hooks nor its values (compared with a server-side dry run, which sees what `lookup`
   * sees), so a re-run leaves no new revision behind.
   */
  async upgradeInstall(options: ReleaseOptions): Promise<void> {
    const args = [
      ...this.upgradeArgs(options),
      ...(options.wait ? ["--wait", "--timeout", `${options.timeoutSeconds ?? 600}s`] : []),
      ...this.contextArgs(),
    ];
    if (this.options.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would run: ${commandLine("helm", args)}`);
      return;
    }
    if (await this.isUpToDate(options)) {
      log.ok(`release ${options.namespace}/${options.release} is up to date: nothing to change`);
      return;
    }
    await run(requireToolPath("helm"), args);
    log.ok(`release ${options.namespace}/${options.release} installed or upgraded`);
  }

  /** True when the release is deployed and an upgrade with these options would change nothing. */
  async isUpToDate(options: ReleaseOptions): Promise<boolean> {
    const helm = requireToolPath("helm");
    const current = await run(helm, ["status", options.release, "--namespace", options.namespace, "-o", "json", ...this.contextArgs()], {
      silent: true,
      allowFailure: true,
    });
    if (current.exitCode !== 0) return false;
    const deployed = JSON.parse(current.stdout) as HelmRelease;
    if (deployed.info?.status !== "deployed") return false;
    const planned = await run(helm, [...this.upgradeArgs(options), "--dry-run=server", "-o", "json", ...this.contextArgs()], { silent: true, allowFailure: true });
    if (planned.exitCode !== 0) return false; // let the real upgrade report the problem
    return releaseFingerprint(deployed) === releaseFingerprint(JSON.parse(planned.stdout) as HelmRelease);
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
