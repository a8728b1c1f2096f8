// The gitops approach for real on a real node (issue 16, items 2 and 3):
// make cluster-up ARGS=--real-node → Flux's controllers (source, kustomize,
// helm) built from their Go modules into one stand-in image with a stand-in
// install.yaml (proving-ground/real-node/flux.ts) → a Git server on this
// machine (git http-backend) serving a clone of this repository → make
// gitops-install with the multi-tenancy lockdown, following the real-node
// cluster folder (gitops/clusters/real-node: upstream charts swapped for the
// tier's stand-ins) → every Kustomization and HelmRelease Ready, the tenants'
// Orthanc rendered by helm-controller from the GitRepository and Ready → a
// commit to the served repository rolls out to one tenant only → the lockdown
// holds under the real controllers (another tenant's namespace, a
// cross-namespace source, a remote base: each fails with the controller's own
// error, nothing is created) → make smoke per tenant without a gateway → a
// re-install changes nothing → uninstall is clean → make cluster-down leaves
// the host as it was. Needs root and overlayfs: in CI (CI=true) a machine
// without them FAILS this file with the reason; elsewhere it is skipped with
// the reason printed.
import { readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import { parseManifests } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { gitopsImageNames } from "../../proving-ground/real-node/flux.ts";
import { publishCheckout, startGitServer, type GitServer } from "../../proving-ground/real-node/git-server.ts";
import { realNodeClusterPath } from "../../proving-ground/real-node/gitops-tree.ts";
import { cgroupPids, podCgroup, residentKiB } from "../../proving-ground/real-node/figures.ts";
import { addresses, nodeLayout } from "../../proving-ground/real-node/layout.ts";
import { output, printed, RealNodeSession, realNodeBlockers } from "../helpers/real-node-cluster.ts";

const blockers = await realNodeBlockers();

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
interface FluxObject {
  kind?: string;
  metadata: { name: string; namespace: string; generation?: number };
  spec: Record<string, unknown>;
  status?: { conditions?: Condition[]; lastAttemptedRevision?: string; lastAppliedRevision?: string; history?: { chartName?: string; chartVersion?: string }[]; artifact?: { revision?: string } };
}
interface Pod {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { containers: { image: string; args?: string[] }[] };
  status: { phase: string; conditions?: Condition[] };
}

const ready = (object: { status?: { conditions?: Condition[] } }) => object.status?.conditions?.find((c) => c.type === "Ready");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Seconds in a Flux duration the tree writes in whole minutes ("2m"); NaN for any other form. */
const durationSeconds = (value: unknown) => Number(/^(\d+)m$/.exec(String(value))?.[1] ?? Number.NaN) * 60;

describe.skipIf(blockers.length > 0)("the gitops approach on a real node: Flux for real", () => {
  const session = new RealNodeSession("korthweb-real-node-gitops-");
  const work = session.work;
  const clusterDir = session.clusterDir;
  const gitRoot = join(work, "git");
  const checkout = join(work, "checkout");
  let server: GitServer | undefined;
  let fluxManifest = "";
  /** The CRDs the stand-in install.yaml brings, and every CRD the cluster had before make gitops-install. */
  let fluxCrds: string[] = [];
  let crdsBeforeInstall: string[] = [];
  let installArgs = "";

  const { make, node, kubectl, kubectlJson, timed, timings } = session;
  const git = (args: string[]) => run("git", ["-C", checkout, ...args], { silent: true, env: { GIT_AUTHOR_NAME: "korthweb test", GIT_AUTHOR_EMAIL: "test@korthweb.test", GIT_COMMITTER_NAME: "korthweb test", GIT_COMMITTER_EMAIL: "test@korthweb.test" } });
  const kustomizations = () => kubectlJson<{ items: FluxObject[] }>(["get", "kustomizations.kustomize.toolkit.fluxcd.io", "-A"]);
  const helmReleases = () => kubectlJson<{ items: FluxObject[] }>(["get", "helmreleases.helm.toolkit.fluxcd.io", "-A"]);
  const orthancPods = (namespace: string) => kubectlJson<{ items: Pod[] }>(["-n", namespace, "get", "pods", "-l", "app.kubernetes.io/name=orthanc,app.kubernetes.io/component=server"]);
  const tenantFolder = join(checkout, "gitops", "tenants", "bhc", "workload");
  const tenantKustomization = join(tenantFolder, "kustomization.yaml");
  let tenantKustomizationAsPublished = "";

  /** Commits the checkout's changes and pushes them to the served repository (as a local path: the server is read-only). */
  const publish = async (message: string): Promise<string> => {
    await git(["add", "-A"]);
    await git(["commit", "-q", "-m", message]);
    await git(["push", "-q", "origin", "HEAD:main"]);
    return (await git(["rev-parse", "HEAD"])).stdout.trim();
  };
  /** Asks bhc's copy of the repository to fetch now (the lockdown checks do not measure intervals; the rollout check does not use this). */
  const fetchNow = () => kubectl(["-n", "bhc", "annotate", "--overwrite", "gitrepositories.source.toolkit.fluxcd.io/korthweb", `reconcile.fluxcd.io/requestedAt=${Date.now()}`]);
  const waitFor = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await sleep(3000);
    }
  };
  const tenantUnit = async (namespace: string) => kubectlJson<FluxObject>(["-n", namespace, "get", "kustomizations.kustomize.toolkit.fluxcd.io", "tenant"]);

  beforeAll(async () => {
    await session.open();
    timings.waitedForRealNode = session.waitedSeconds;
  }, 3_700_000);

  afterAll(async () => {
    await server?.close();
    await session.close();
    console.log(`real-node gitops timings (s): ${JSON.stringify(timings)}`);
  }, 600_000);

  it("make cluster-up ARGS=--real-node starts the control plane and a Ready real node", async () => {
    const result = await timed("clusterUp", () => make("cluster-up", { ARGS: "--real-node" }));
    session.up = true;
    expect(result.exitCode, output(result)).toBe(0);
    const nodes = await kubectlJson<{ items: { status: { conditions: Condition[] } }[] }>(["get", "nodes"]);
    expect(nodes.items.map((item) => ready(item)?.status)).toEqual(["True"]);
  }, 3_600_000);

  it("Flux's controllers are built from their Go modules into one stand-in image, imported into the node, with a stand-in install.yaml", async () => {
    const result = await timed("fluxPrepare", () => node("proving-ground/real-node/flux.ts"));
    expect(result.exitCode, output(result)).toBe(0);
    expect(printed(result)).toMatch(/stand-in for Flux's install\.yaml/);
    fluxManifest = join(nodeLayout(clusterDir).dir, "flux-install.stand-in.yaml");
    const objects = parseManifests(readFileSync(fluxManifest, "utf8"), fluxManifest).map((item) => item.object as { kind: string; metadata: { name: string }; spec?: { template?: { spec?: { containers?: { command?: string[] }[] } } } });
    const deployments = objects.filter((object) => object.kind === "Deployment");
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(["helm-controller", "kustomize-controller", "source-controller"]);
    for (const deployment of deployments) expect(deployment.spec?.template?.spec?.containers?.[0]?.command).toEqual([`/usr/local/bin/${deployment.metadata.name}`]);
    fluxCrds = objects.filter((object) => object.kind === "CustomResourceDefinition").map((object) => object.metadata.name);
    expect(fluxCrds.length).toBeGreaterThan(0);
    expect(fluxCrds.filter((name) => name.includes("notification"))).toEqual([]);
  }, 3_600_000);

  it("a Git server on the node's address serves a clone of this repository over smart HTTP", async () => {
    await publishCheckout(repoRoot, gitRoot);
    server = await startGitServer(gitRoot, addresses.nodeIp, 0);
    await run("git", ["clone", "-q", server.url, checkout], { silent: true });
    expect((await git(["rev-parse", "HEAD"])).stdout.trim()).toBe((await run("git", ["-C", repoRoot, "rev-parse", "HEAD"], { silent: true })).stdout.trim());
    // Pushes go to the repository on disk; the server itself is read-only.
    await git(["remote", "set-url", "origin", join(gitRoot, "korthweb.git")]);
    tenantKustomizationAsPublished = readFileSync(tenantKustomization, "utf8");
  }, 120_000);

  it("make gitops-install (stand-in install.yaml, the local Git server, the real-node cluster folder) makes every Kustomization and HelmRelease Ready", async () => {
    installArgs = `--flux-manifest ${fluxManifest} --url ${server!.url} --branch main --path ${realNodeClusterPath}`;
    // Kubernetes timestamps have whole seconds: the start too, so no unit reads Ready before it.
    crdsBeforeInstall = (await kubectl(["get", "crd", "-o", "name"])).stdout.trim().split("\n");
    const installStarted = Math.floor(Date.now() / 1000) * 1000;
    const result = await timed("gitopsInstall", () => make("gitops-install", { ARGS: installArgs }));
    expect(result.exitCode, output(result)).toBe(0);
    // Figures (docs/cluster.md): seconds from the start of make gitops-install to each Kustomization's Ready.
    const readyAt: Record<string, number> = {};
    for (const unit of (await kustomizations()).items) {
      const since = ready(unit)?.lastTransitionTime;
      if (since) readyAt[`${unit.metadata.namespace}/${unit.metadata.name}`] = (Date.parse(since) - installStarted) / 1000;
    }
    console.log(`seconds from make gitops-install to each Kustomization Ready: ${JSON.stringify(readyAt)}`);
    timings.allKustomizationsReady = Math.max(...Object.values(readyAt));
    expect(printed(result)).toMatch(/lockdown \(\.\/gitops\/clusters\/real-node\/flux-system\): kustomize-controller --no-cross-namespace-refs=true --no-remote-bases=true --default-service-account=flux-no-rights/);
    const units = (await kustomizations()).items;
    expect(units.map((unit) => `${unit.metadata.namespace}/${unit.metadata.name}`).sort()).toEqual([
      "bhc/tenant",
      "flux-system/infra-configs",
      "flux-system/infra-controllers",
      "flux-system/korthweb",
      "flux-system/tenant-bhc",
      "flux-system/tenant-mhr",
      "mhr/tenant",
    ]);
    for (const unit of units) expect(ready(unit), `${unit.metadata.namespace}/${unit.metadata.name}`).toMatchObject({ status: "True" });
    const releases = (await helmReleases()).items;
    expect(releases.map((release) => `${release.metadata.namespace}/${release.metadata.name}`).sort()).toEqual(["bhc/orthanc", "mhr/orthanc"]);
    for (const release of releases) expect(ready(release), `${release.metadata.namespace}/${release.metadata.name}`).toMatchObject({ status: "True" });
    // Step 8 smoke-tested each tenant without a gateway, and said so.
    expect(printed(result).match(/WITHOUT a gateway: kubectl port-forward to service (bhc|mhr)\/orthanc/g)?.length).toBe(2);
    expect(printed(result).match(/smoke: [1-9]\d* passed, 0 failed/g)?.length).toBe(2);
  }, 3_600_000);

  it("the controllers run from the stand-in image with the lockdown flags; source-controller really fetched from the Git server", async () => {
    const pods = await kubectlJson<{ items: Pod[] }>(["-n", "flux-system", "get", "pods"]);
    const args = (name: string) => pods.items.find((pod) => pod.metadata.name.startsWith(name))!.spec.containers[0]!.args ?? [];
    for (const pod of pods.items) expect(pod.spec.containers[0]!.image).toMatch(/^korthweb\.local\/flux-controllers:/);
    // Figures (docs/cluster.md): resident memory of each controller's pod (its processes, from the node's cgroups).
    const memory: Record<string, number> = {};
    for (const pod of pods.items) {
      const cgroup = podCgroup(pod.metadata.uid);
      if (cgroup) memory[pod.metadata.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, "")] = Math.round(cgroupPids(cgroup).reduce((sum, pid) => sum + (residentKiB(pid) ?? 0), 0) / 1024);
    }
    console.log(`Flux controllers' resident memory (MiB): ${JSON.stringify(memory)}`);
    expect(Object.keys(memory).sort()).toEqual(["helm-controller", "kustomize-controller", "source-controller"]);
    expect(args("kustomize-controller")).toEqual(expect.arrayContaining(["--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=flux-no-rights"]));
    expect(args("helm-controller")).toEqual(expect.arrayContaining(["--no-cross-namespace-refs=true", "--default-service-account=flux-no-rights"]));
    const head = (await git(["rev-parse", "HEAD"])).stdout.trim();
    for (const namespace of ["flux-system", "bhc", "mhr"]) {
      const source = await kubectlJson<FluxObject>(["-n", namespace, "get", "gitrepositories.source.toolkit.fluxcd.io", "korthweb"]);
      expect(source.spec.url).toBe(server!.url);
      expect(source.status?.artifact?.revision).toBe(`main@sha1:${head}`);
    }
    expect(server!.requests.filter((request) => request.path.endsWith("/git-upload-pack") && request.status === 200).length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it("each tenant's orthanc HelmRelease is rendered by helm-controller from the tenant's GitRepository, and its Orthanc pods are Ready", async () => {
    const head = (await git(["rev-parse", "HEAD"])).stdout.trim();
    for (const tenant of ["bhc", "mhr"]) {
      const release = await kubectlJson<FluxObject>(["-n", tenant, "get", "helmreleases.helm.toolkit.fluxcd.io", "orthanc"]);
      expect(release.status?.lastAttemptedRevision).toMatch(/^\d+\.\d+\.\d+\+[0-9a-f]{12}$/);
      expect(head.startsWith(release.status!.lastAttemptedRevision!.split("+")[1]!)).toBe(true);
      const chart = await kubectlJson<FluxObject>(["-n", tenant, "get", "helmcharts.source.toolkit.fluxcd.io", `${tenant}-orthanc`]);
      expect(chart.spec).toMatchObject({ chart: "./helm/orthanc", sourceRef: { kind: "GitRepository", name: "korthweb" } });
      expect(ready(chart)?.status).toBe("True");
      const helmSecrets = await kubectlJson<{ items: { metadata: { name: string } }[] }>(["-n", tenant, "get", "secrets", "-l", "owner=helm,name=orthanc"]);
      expect(helmSecrets.items.length).toBeGreaterThanOrEqual(1);
      const pods = (await orthancPods(tenant)).items;
      expect(pods.length).toBeGreaterThanOrEqual(2);
      for (const pod of pods) {
        expect(pod.status.phase).toBe("Running");
        expect(ready(pod)?.status).toBe("True");
        expect(pod.spec.containers[0]!.image).toBe(gitopsImageNames.orthanc);
      }
      const database = await kubectlJson<{ status: { readyReplicas?: number } }>(["-n", tenant, "get", "statefulset", "orthanc-db-postgresql"]);
      expect(database.status.readyReplicas).toBe(1);
      // The release is Ready although its backup volume is not Bound: local-path binds on first consumer and no backup
      // has run yet. Without the HelmRelease's healthCheckExprs rule helm-controller waited for it until the install timed out.
      const claim = await kubectlJson<{ metadata: { labels?: Record<string, string> }; spec: { storageClassName?: string }; status: { phase: string } }>(["-n", tenant, "get", "pvc", "orthanc-backups"]);
      expect(claim.status.phase).toBe("Pending");
      expect(claim.metadata.labels?.["app.kubernetes.io/component"]).toBe("backup");
      const storageClass = await kubectlJson<{ volumeBindingMode: string }>(["get", "storageclass", claim.spec.storageClassName ?? "local-path"]);
      expect(storageClass.volumeBindingMode).toBe("WaitForFirstConsumer");
    }
  }, 300_000);

  for (const [tenant, other] of [["bhc", "mhr"], ["mhr", "bhc"]] as const) {
    it(`make smoke reaches ${tenant}'s Orthanc without a gateway (kubectl port-forward), says so, passes every REST and DICOM check, and ${other}'s login fails on it`, async () => {
      const result = await timed(`smoke-${tenant}`, () =>
        make("smoke", { ARGS: `--target kube --via port-forward --namespace ${tenant} --tenant ${tenant} --credentials-secret ${tenant}/orthanc-admin --foreign-credentials-secret ${other}/orthanc-admin --report ${join(work, `smoke-${tenant}.json`)}` }),
      );
      expect(result.exitCode, output(result)).toBe(0);
      const text = printed(result);
      expect(text).toMatch(new RegExp(`WITHOUT a gateway: kubectl port-forward to service ${tenant}/orthanc`));
      expect(text).toMatch(/REACHED WITHOUT TLS/);
      const report = JSON.parse(readFileSync(join(work, `smoke-${tenant}.json`), "utf8")) as { checks: { id: string; status: string; cause?: string }[] };
      const status = Object.fromEntries(report.checks.map((check) => [check.id, check.status]));
      for (const id of ["rest-auth", "rest-no-auth", "rest-foreign-credentials", "dicom-echo", "dicom-wrong-aet", "dicom-unregistered-aet", "dicom-store", "rest-lookup", "rest-tags", "rest-file", "rest-delete"]) expect(status[id], id).toBe("pass");
      // Only the TLS checks are skipped, each saying why: the four TLS checks for want of a gateway, the four
      // client-certificate checks because they run over the DICOM TLS that was skipped.
      const skipped = report.checks.filter((c) => c.status !== "pass");
      for (const check of skipped) expect(check.status, check.id).toBe("skip");
      expect(skipped.map((check) => check.id).sort()).toEqual(
        ["tls-https", "tls-https-legacy", "tls-dicom", "tls-dicom-legacy", "dicom-client-none", "dicom-client-other-ca", "dicom-client-expired", "dicom-client-foreign"].sort(),
      );
      for (const check of skipped) expect(check.cause, check.id).toMatch(check.id.startsWith("tls-") ? /no TLS to check: no gateway in front of Orthanc/ : /^needs tls-dicom$/);
    }, 300_000);
  }

  it("a commit to the served repository (a values change for bhc) rolls out to bhc only, within the tenant Kustomization's interval", async () => {
    const unit = await tenantUnit("bhc");
    const intervalSeconds = durationSeconds(unit.spec.interval);
    expect(intervalSeconds).toBeGreaterThan(0);
    const mhrBefore = (await orthancPods("mhr")).items.map((pod) => pod.metadata.uid).sort();
    const mhrGeneration = (await kubectlJson<{ metadata: { generation: number } }>(["-n", "mhr", "get", "deployment", "orthanc"])).metadata.generation;
    const stamp = String(Date.now());
    writeFileSync(
      tenantKustomization,
      `${tenantKustomizationAsPublished.trimEnd()}\npatches:\n  - target:\n      kind: HelmRelease\n      name: orthanc\n    patch: |\n      - op: add\n        path: /spec/values/podAnnotations\n        value:\n          korthweb.io/rollout: "${stamp}"\n`,
    );
    const started = Date.now();
    await publish("bhc: annotate Orthanc's pods (rollout check)");
    await waitFor("bhc's Orthanc pods with the new annotation, all Ready", (intervalSeconds + 240) * 1000, async () => {
      const pods = (await orthancPods("bhc")).items;
      const rolled = pods.length >= 2 && pods.every((pod) => pod.metadata.annotations?.["korthweb.io/rollout"] === stamp && ready(pod)?.status === "True");
      return rolled ? true : undefined;
    });
    timings.rolloutSeconds = (Date.now() - started) / 1000;
    // Within the interval the test set for tenant Kustomizations, plus the GitRepository's own interval and the rollout itself.
    const source = await kubectlJson<FluxObject>(["-n", "bhc", "get", "gitrepositories.source.toolkit.fluxcd.io", "korthweb"]);
    const sourceSeconds = durationSeconds(source.spec.interval);
    expect(timings.rolloutSeconds).toBeLessThan(intervalSeconds + sourceSeconds + 120);
    expect((await orthancPods("mhr")).items.map((pod) => pod.metadata.uid).sort()).toEqual(mhrBefore);
    expect((await kubectlJson<{ metadata: { generation: number } }>(["-n", "mhr", "get", "deployment", "orthanc"])).metadata.generation).toBe(mhrGeneration);
  }, 900_000);

  /** The newest "Reconciler error" a Flux controller logged for this object, when it matches `error`. */
  const reconcilerError = async (controller: string, object: { name: string; namespace: string }, error: RegExp): Promise<string | undefined> => {
    const logs = await kubectl(["-n", "flux-system", "logs", `deployment/${controller}`, "--since=10m"]);
    const errors = logs.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { msg?: string; name?: string; namespace?: string; error?: string })
      .filter((entry) => entry.msg === "Reconciler error" && entry.name === object.name && entry.namespace === object.namespace && error.test(entry.error ?? ""));
    return errors.at(-1)?.error;
  };

  /**
   * Commits a violation into bhc's own workload folder (a resource entry, with its file when it is one), waits
   * for the controller's error on `object`, then checks that the `absent` objects do not exist.
   */
  const violation = async (entry: string, file: string | undefined, object: string[], error: RegExp, absent: string[][]) => {
    if (file) writeFileSync(join(tenantFolder, entry), file);
    writeFileSync(tenantKustomization, `${tenantKustomizationAsPublished.trimEnd()}\n  - ${entry}\n`);
    const commit = await publish(`bhc: lockdown check (${entry})`);
    await fetchNow();
    const message = await waitFor(`the controller's error on ${object.join(" ")}`, 240_000, async () => {
      const found = await kubectl([...object, "-o", "json"]);
      if (found.exitCode !== 0) return undefined;
      const unit = JSON.parse(found.stdout) as FluxObject;
      const condition = ready(unit);
      // A refused HelmRelease is new: it must never turn Ready (the tenant Kustomization was Ready before the commit).
      if (unit.kind === "HelmRelease") expect(condition?.status, `${object.join(" ")} must never be Ready`).not.toBe("True");
      if (condition?.status === "False" && error.test(condition.message ?? "")) return condition.message;
      // helm-controller v1.6 refuses a cross-namespace chart source before it writes any condition: the refusal is
      // its reconciler error, in its log only (the object keeps no Ready condition: docs/cluster.md).
      return unit.kind === "HelmRelease" ? reconcilerError("helm-controller", unit.metadata, error) : undefined;
    });
    for (const args of absent) {
      const found = await kubectl(["get", ...args]);
      expect(found.exitCode, `${args.join(" ")} must not exist: ${found.stdout}`).not.toBe(0);
      expect(found.stderr).toMatch(/NotFound|not found/);
    }
    if (file) rmSync(join(tenantFolder, entry));
    console.log(`lockdown (${entry}): ${message}`);
    return { commit, message: message! };
  };

  it("the lockdown holds: a remote base fails with kustomize-controller's own error, and nothing of it is created", async () => {
    // A remote base that can be fetched: this machine's Git server. kustomize clones it with git (in the image, as in
    // Flux's own), and the lockdown's secure filesystem refuses to read the clone, outside the source's artifact.
    // Were remote bases allowed, the clone would be built; without git in the image it would fail on the missing program.
    const { message } = await violation(
      `${server!.url}//gitops/tenants/base/workload?ref=main`,
      undefined,
      ["-n", "bhc", "get", "kustomizations.kustomize.toolkit.fluxcd.io", "tenant"],
      /not in or below/i,
      [],
    );
    expect(message).not.toMatch(/no 'git' program|no such host|could not resolve|unable to access/i);
  }, 600_000);

  it("the lockdown holds: a manifest targeting mhr's namespace fails as forbidden for bhc's account, and nothing is created in mhr", async () => {
    const { message } = await violation(
      "other-tenant.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-bhc\n  namespace: mhr\ndata:\n  note: a bhc manifest aimed at mhr\n",
      ["-n", "bhc", "get", "kustomizations.kustomize.toolkit.fluxcd.io", "tenant"],
      /forbidden/i,
      [["-n", "mhr", "configmap", "from-bhc"]],
    );
    expect(message).toMatch(/system:serviceaccount:bhc:flux-reconciler/);
  }, 600_000);

  it("the lockdown holds: a HelmRelease whose chart source is in another namespace fails with helm-controller's own error, and no chart or release is made", async () => {
    const { message } = await violation(
      "cross-namespace-source.yaml",
      [
        "apiVersion: helm.toolkit.fluxcd.io/v2",
        "kind: HelmRelease",
        "metadata:",
        "  name: cross-namespace",
        "  namespace: bhc",
        "spec:",
        "  serviceAccountName: flux-reconciler",
        "  interval: 30m",
        "  releaseName: cross-namespace",
        "  chart:",
        "    spec:",
        "      chart: ./helm/orthanc",
        "      sourceRef:",
        "        kind: GitRepository",
        "        name: korthweb",
        "        namespace: flux-system",
        "",
      ].join("\n"),
      ["-n", "bhc", "get", "helmreleases.helm.toolkit.fluxcd.io", "cross-namespace"],
      /cross-namespace/i,
      // The chart it asks for would be made in the source's namespace (flux-system/bhc-cross-namespace).
      [["-n", "flux-system", "helmcharts.source.toolkit.fluxcd.io", "bhc-cross-namespace"], ["-n", "bhc", "helmcharts.source.toolkit.fluxcd.io", "bhc-cross-namespace"], ["-n", "bhc", "deployment", "cross-namespace"], ["-n", "bhc", "secret", "sh.helm.release.v1.cross-namespace.v1"]],
    );
    expect(message).toMatch(/flux-system/);
  }, 600_000);

  it("with the violations reverted, bhc reconciles Ready again", async () => {
    writeFileSync(tenantKustomization, tenantKustomizationAsPublished);
    for (const file of readdirSync(tenantFolder)) if (file !== "kustomization.yaml") rmSync(join(tenantFolder, file));
    const commit = await publish("bhc: back to the published workload");
    await fetchNow();
    // kustomize-controller first finishes the health checks of the refused revision (its HelmRelease never turns
    // Ready): up to the Kustomization's timeout, then the next commit applies.
    const timeoutSeconds = durationSeconds((await tenantUnit("bhc")).spec.timeout);
    expect(timeoutSeconds).toBeGreaterThan(0);
    await waitFor("bhc/tenant Ready at the reverted commit", (timeoutSeconds + 240) * 1000, async () => {
      const unit = await tenantUnit("bhc");
      return ready(unit)?.status === "True" && unit.status?.lastAppliedRevision === `main@sha1:${commit}` ? true : undefined;
    });
    const leftovers = await kubectl(["-n", "bhc", "get", "helmreleases.helm.toolkit.fluxcd.io", "cross-namespace"]);
    expect(leftovers.exitCode).not.toBe(0);
  }, 600_000);

  it("make gitops-install again changes nothing", async () => {
    const versions = async () => (await kubectl(["get", "-A", "deployments,statefulsets,kustomizations.kustomize.toolkit.fluxcd.io,helmreleases.helm.toolkit.fluxcd.io,gitrepositories.source.toolkit.fluxcd.io", "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.metadata.generation} {end}"])).stdout;
    const was = await versions();
    const result = await make("gitops-install", { ARGS: installArgs });
    expect(result.exitCode, output(result)).toBe(0);
    expect(await versions()).toBe(was);
  }, 1_800_000);

  it("make gitops-uninstall PURGE=1 removes Flux, the tree and the tenants' data", async () => {
    const result = await timed("gitopsUninstall", () => make("gitops-uninstall", { ARGS: `--path ${realNodeClusterPath}`, PURGE: "1" }));
    expect(result.exitCode, output(result)).toBe(0);
    for (const namespace of ["flux-system", "bhc", "bhc-ingress", "mhr", "mhr-ingress"]) {
      const gone = await kubectl(["wait", "--for=delete", `namespace/${namespace}`, "--timeout=300s"]);
      expect(gone.exitCode, output(gone)).toBe(0);
    }
    // Flux's CRDs are gone; the ones cluster-up generated for validation that Flux's stand-in does not bring (the
    // notification API: no notification-controller here) stay, as every CRD that was there before the install.
    const crdsAfter = (await kubectl(["get", "crd", "-o", "name"])).stdout.trim().split("\n");
    expect(crdsAfter.filter((name) => fluxCrds.includes(name.replace(/^customresourcedefinition\.apiextensions\.k8s\.io\//, "")))).toEqual([]);
    expect(crdsAfter.filter((name) => !crdsBeforeInstall.includes(name))).toEqual([]);
    expect((await kubectl(["get", "pv", "-o", "name"])).stdout.trim()).toBe("");
  }, 1_800_000);

  it("make cluster-down stops everything and leaves the host exactly as before", async () => {
    await server?.close();
    server = undefined;
    const { result, hostDifferences } = await session.bringDown();
    expect(result.exitCode, output(result)).toBe(0);
    expect(hostDifferences).toEqual([]);
  }, 600_000);
});
