// Bad input and unready clusters, for every task of every approach: each step
// alone and each install/uninstall sequence stops with a clear message and its
// own exit code, having changed nothing (the stand-in API server records every
// request: none may write). Covered: no kube context (4), an unreachable API
// server (5), a Kubernetes too old (6), missing CRDs (7), unknown flags and
// invalid settings (2), malformed chart values (10).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { runTasks, type Task } from "../../tasks/lib/task.ts";
import { installSteps as gitopsInstall } from "../../tasks/gitops/install.ts";
import { uninstallSteps as gitopsUninstall } from "../../tasks/gitops/uninstall.ts";
import { installSteps as helmInstall } from "../../tasks/helm/install.ts";
import { uninstallSteps as helmUninstall } from "../../tasks/helm/uninstall.ts";
import { installSteps as manualInstall } from "../../tasks/manual/install.ts";
import { uninstallSteps as manualUninstall } from "../../tasks/manual/uninstall.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { commonKinds, startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";
import { useCapturedLog } from "../helpers/log.ts";
import { scratchDir } from "../helpers/scratch.ts";

const lines = useCapturedLog();

/** Every entry point a user can run: each numbered step alone, and each sequence. */
const entries: [string, Task[]][] = [
  ...[...helmInstall, ...manualInstall, ...gitopsInstall].map((task): [string, Task[]] => [task.id, [task]]),
  ["helm-install", helmInstall],
  ["helm-uninstall", helmUninstall],
  ["manual-install", manualInstall],
  ["manual-uninstall", manualUninstall],
  ["gitops-install", gitopsInstall],
  ["gitops-uninstall", gitopsUninstall],
];

/** gitops steps that read the source flags need a URL: this checkout may have no origin remote. */
const argsFor = (tasks: readonly Task[], extra: string[] = []) =>
  tasks.some((task) => task.flags?.url) ? ["--url", "https://git.example.org/you/korthweb.git", "--branch", "main", ...extra] : extra;

const writes = (cluster: FakeCluster) => cluster.requests.filter((line) => !line.startsWith("GET "));
const output = () => lines.join("\n");

describe("bad input and unready clusters: clear message, own exit code, nothing changed", () => {
  const savedKubeconfig = process.env.KUBECONFIG;
  let current: FakeCluster;
  let old: FakeCluster;

  beforeAll(async () => {
    current = await startFakeCluster({ version: "v1.35.4" });
    old = await startFakeCluster({ version: "v1.30.4" });
  });
  afterAll(async () => {
    await current.close();
    await old.close();
  });
  afterEach(() => {
    process.env.KUBECONFIG = savedKubeconfig;
  });

  it("covers every step of the three approaches", () => {
    expect(entries.length).toBe(helmInstall.length + manualInstall.length + gitopsInstall.length + 6);
    for (const [name, tasks] of entries) expect(tasks.some((task) => task.cluster), `${name} is marked as talking to a cluster`).toBe(true);
  });

  it.each(entries)("%s: no kube context → exit 4, no request", async (_name, tasks) => {
    current.requests.length = 0;
    process.env.KUBECONFIG = writeKubeconfig(current.url, null);
    expect(await runTasks("t", tasks, argsFor(tasks)), output()).toBe(4);
    expect(output()).toContain("no kube context is selected");
    expect(current.requests).toEqual([]);
  });

  it.each(entries)("%s: API server unreachable → exit 5", async (_name, tasks) => {
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1");
    expect(await runTasks("t", tasks, argsFor(tasks)), output()).toBe(5);
    expect(output()).toContain("the Kubernetes API server does not answer");
  });

  it.each(entries)("%s: Kubernetes 1.30 → exit 6, nothing written", async (_name, tasks) => {
    old.requests.length = 0;
    process.env.KUBECONFIG = writeKubeconfig(old.url);
    expect(await runTasks("t", tasks, argsFor(tasks)), output()).toBe(6);
    expect(output()).toContain("the cluster runs Kubernetes v1.30.4; korthweb needs 1.33 or newer");
    expect(writes(old)).toEqual([]);
  });

  it.each(entries)("%s: unknown flag or invalid setting → exit 2 before any request", async (_name, tasks) => {
    current.requests.length = 0;
    process.env.KUBECONFIG = writeKubeconfig(current.url);
    expect(await runTasks("t", tasks, argsFor(tasks, ["--replicas", "3"]))).toBe(2);
    expect(output()).toContain("Unknown option '--replicas'");
    expect(await runTasks("t", tasks, argsFor(tasks, ["--domain", "not a domain"]))).toBe(2);
    expect(output()).toContain('invalid --domain "not a domain"');
    expect(current.requests).toEqual([]);
  });

  it("gitops-install refuses a Kubernetes older than Flux 2.9 supports (1.34.1) before changing anything", async () => {
    const k133 = await startFakeCluster({ version: "v1.33.5" });
    process.env.KUBECONFIG = writeKubeconfig(k133.url);
    expect(await runTasks("gitops-install", gitopsInstall, argsFor(gitopsInstall)), output()).toBe(6);
    expect(output()).toContain("korthweb needs 1.34.1 or newer");
    expect(writes(k133)).toEqual([]);
    await k133.close();
  });

  it("gitops-install refuses a bad --url before any request", async () => {
    current.requests.length = 0;
    process.env.KUBECONFIG = writeKubeconfig(current.url);
    expect(await runTasks("gitops-install", gitopsInstall, ["--url", "file:///tmp/repo", "--branch", "main"])).toBe(2);
    expect(output()).toContain('invalid --url "file:///tmp/repo"');
    expect(current.requests).toEqual([]);
  });

  it("helm-install refuses malformed chart values (exit 10, naming the field) before any request", async () => {
    const dir = scratchDir("korthweb-values-");
    const file = join(dir, "values.yaml");
    writeFileSync(file, "replicaCount: two\n");
    current.requests.length = 0;
    process.env.KUBECONFIG = writeKubeconfig(current.url);
    expect(await runTasks("helm-install", helmInstall, ["--values", file]), output()).toBe(10);
    expect(output()).toMatch(/helm\/orthanc refuses these values \(--values .*values\.yaml\)/);
    expect(output()).toContain("replicaCount");
    expect(current.requests).toEqual([]);
  });

  describe("a step whose CRDs are missing stops before applying anything (exit 7)", () => {
    const secrets: KubeObject[] = ["orthanc-admin", "orthanc-db"].map((name) => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "orthanc" }, data: { password: "eA==" } }));
    const withoutGroup = (group: string) => commonKinds.filter((kind) => !kind.apiVersion.startsWith(`${group}/`));

    it.each([
      ["helm/05-orthanc", helmInstall, "traefik.io", "ingressroutes.traefik.io", "tasks/helm/03-traefik.ts"],
      ["manual/06-routing", manualInstall, "networking.istio.io", "gateways.networking.istio.io", "tasks/manual/02-istio.ts"],
      ["manual/07-security", manualInstall, "security.istio.io", "authorizationpolicies.security.istio.io", "tasks/manual/02-istio.ts"],
      ["gitops/04-source", gitopsInstall, "source.toolkit.fluxcd.io", "gitrepositories.source.toolkit.fluxcd.io", "tasks/gitops/02-flux.ts"],
    ])("%s", async (id, steps, group, crd, installer) => {
      const task = steps.find((step) => step.id === id)!;
      const cluster = await startFakeCluster({ version: "v1.35.4", kinds: withoutGroup(group), objects: secrets });
      process.env.KUBECONFIG = writeKubeconfig(cluster.url);
      expect(await runTasks(id, [task], argsFor([task])), output()).toBe(7);
      expect(output()).toContain(`missing CustomResourceDefinitions: `);
      expect(output()).toContain(crd);
      expect(output()).toContain(installer);
      expect(writes(cluster)).toEqual([]);
      await cluster.close();
    });
  });
});
