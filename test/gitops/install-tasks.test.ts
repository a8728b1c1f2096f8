// The gitops install and uninstall steps: the whole sequence in --dry-run
// prints the ordered plan with no cluster; flags are validated with clear
// errors; the steps that talk to a cluster run with the real kubectl against
// a fake API server (Secrets made once and kept, the source objects, waits
// that pass or name Flux's reason, the summary).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { task as preflightTask } from "../../tasks/gitops/01-preflight.ts";
import { task as fluxTask } from "../../tasks/gitops/02-flux.ts";
import { task as secretsTask } from "../../tasks/gitops/03-secrets.ts";
import { task as sourceTask } from "../../tasks/gitops/04-source.ts";
import { task as syncTask } from "../../tasks/gitops/05-sync.ts";
import { task as waitTask, waitPlan } from "../../tasks/gitops/06-wait.ts";
import { task as summaryTask } from "../../tasks/gitops/07-summary.ts";
import { smokeArgs } from "../../tasks/gitops/08-smoke.ts";
import { checkFluxManifest, loadFluxManifest } from "../../tasks/gitops/flux.ts";
import { installSteps } from "../../tasks/gitops/install.ts";
import { parseBranch, parseClusterPath, parseGitUrl } from "../../tasks/gitops/options.ts";
import { loadFluxTree, tenantEndpoints, type FluxTree } from "../../tasks/gitops/tree.ts";
import { parseInventory, uninstallSteps } from "../../tasks/gitops/uninstall.ts";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { commonKinds, startFakeCluster, type FakeCluster, type ResourceKind } from "../helpers/fake-cluster.ts";
import { useCapturedLog } from "../helpers/log.ts";
import { fluxInstallStandIn } from "../../proving-ground/checks/gitops/flux-lockdown-check.ts";

const lines = useCapturedLog();
const output = () => lines.join("\n");
const savedKubeconfig = process.env.KUBECONFIG;
afterEach(() => {
  process.env.KUBECONFIG = savedKubeconfig;
});
const fluxManifest = fluxInstallStandIn;
const fork = ["--url", "https://git.example.test/you/korthweb.git", "--branch", "main"];

/** Each part must appear, in this order. */
function expectInOrder(text: string, parts: readonly string[]): void {
  let at = 0;
  for (const part of parts) {
    const found = text.indexOf(part, at);
    expect(found, `"${part}" after position ${at}`).toBeGreaterThanOrEqual(0);
    at = found + part.length;
  }
}

describe("gitops-install --dry-run (no cluster)", () => {
  beforeEach(() => {
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1"); // nothing answers there
  });

  it("prints the eight steps in order, then each step's actions, and exits 0", async () => {
    const code = await runTasks("gitops-install", installSteps, ["--dry-run", ...fork]);
    expect(code, output()).toBe(0);
    expectInOrder(output(), [
      "1. Preflight: source flags, the Flux tree, tools, cluster",
      "2. Flux v2.9.6 controllers",
      "3. Namespaces and Secrets kept out of Git",
      "4. Point Flux at your fork",
      "5. Sync now",
      "6. Wait for every Kustomization and HelmRelease to be Ready",
      "7. Summary per tenant",
      "8. Smoke test each tenant",
      "Flux will follow https://git.example.test/you/korthweb.git branch main, folder ./gitops/clusters/production",
      "Flux tree: 7 Kustomizations, 12 HelmReleases; tenants bhc, mhr",
      "would check: kube context set",
      "would download https://github.com/fluxcd/flux2/releases/download/v2.9.6/install.yaml, build ./gitops/clusters/production/flux-system over it and apply the result",
      "would wait for Deployment flux-system/helm-controller to roll out",
      "would apply (server-side) namespaces: Namespace monitoring, Namespace bhc, Namespace bhc-ingress, Namespace mhr, Namespace mhr-ingress",
      "would create Secret bhc/orthanc-admin (keys username, password; random alphanumeric values) unless it exists",
      "would create Secret mhr/orthanc-db (keys password, postgres-password; random alphanumeric values) unless it exists",
      "would create Secret monitoring/grafana-admin (keys admin-user, admin-password",
      "would apply (server-side) Flux source and entry Kustomization: GitRepository flux-system/korthweb, Kustomization flux-system/korthweb",
      "url: https://git.example.test/you/korthweb.git",
      "path: ./gitops/clusters/production",
      "would run: kubectl annotate gitrepositories.source.toolkit.fluxcd.io korthweb -n flux-system --overwrite reconcile.fluxcd.io/requestedAt=",
      "would wait for kustomizations.kustomize.toolkit.fluxcd.io flux-system/infra-controllers to be Ready",
      "would wait for kustomizations.kustomize.toolkit.fluxcd.io flux-system/infra-configs to be Ready",
      "would wait for helmreleases.helm.toolkit.fluxcd.io bhc/orthanc to be Ready",
      "would wait for kustomizations.kustomize.toolkit.fluxcd.io mhr/tenant to be Ready",
      "Tenant bhc",
      "https://web.bhc.korthweb.test/",
      "Tenant mhr",
      "would run: node smoke/cli.ts --target kube --tenant bhc --namespace bhc --release orthanc --gateway-service bhc-ingress/bhc-ingress --ca-secret bhc-ingress/orthanc-tls --credentials-secret bhc/orthanc-admin",
      "would run: node smoke/cli.ts --target kube --tenant mhr",
    ]);
  });

  it("checks a local Flux manifest, builds the cluster's flux-system folder over it and says how many objects it would apply", async () => {
    const code = await runTasks("gitops/02-flux", [fluxTask], ["--dry-run", "--flux-manifest", fluxManifest]);
    expect(code, output()).toBe(0);
    expect(output()).toContain(`would apply (server-side) ${fluxManifest} built with ./gitops/clusters/production/flux-system: 12 objects`);
    expect(output()).toContain("lockdown (./gitops/clusters/production/flux-system): kustomize-controller --no-cross-namespace-refs=true --no-remote-bases=true --default-service-account=flux-no-rights");
    expect(output()).toContain("lockdown (./gitops/clusters/production/flux-system): notification-controller --no-cross-namespace-refs=true");
  });

  it("acts on the tenants named with --tenants only, and refuses unknown ones", async () => {
    expect(await runTasks("gitops/03-secrets", [secretsTask], ["--dry-run", "--tenants", "mhr"]), output()).toBe(0);
    expect(output()).toContain("would create Secret mhr/orthanc-admin");
    expect(output()).not.toContain("Secret bhc/");
    lines.length = 0;
    expect(await runTasks("gitops/03-secrets", [secretsTask], ["--dry-run", "--tenants", "mhr,xyz"])).toBe(2);
    expect(output()).toContain("tenant xyz not in ./gitops/clusters/production (it has bhc, mhr)");
  });

  it("lists the uninstall in reverse order: stop syncing, tenants, their onboarding, infrastructure, entry, Flux, data", async () => {
    const code = await runTasks("gitops-uninstall", uninstallSteps, ["--dry-run"]);
    expect(code, output()).toBe(0);
    expectInOrder(output(), [
      "would run: kubectl patch kustomizations.kustomize.toolkit.fluxcd.io korthweb -n flux-system --type merge",
      "would run: kubectl patch kustomizations.kustomize.toolkit.fluxcd.io tenant-bhc -n flux-system --type merge",
      "would run: kubectl patch kustomizations.kustomize.toolkit.fluxcd.io tenant-mhr -n flux-system --type merge",
      "would run: kubectl delete kustomizations.kustomize.toolkit.fluxcd.io tenant -n bhc",
      "would run: kubectl delete kustomizations.kustomize.toolkit.fluxcd.io tenant -n mhr",
      "would delete the objects flux-system/tenant-mhr applied (from its inventory), keeping tenant namespaces unless --purge",
      "would run: kubectl delete kustomizations.kustomize.toolkit.fluxcd.io tenant-mhr -n flux-system",
      "would delete the objects flux-system/tenant-bhc applied (from its inventory), keeping tenant namespaces unless --purge",
      "would run: kubectl delete kustomizations.kustomize.toolkit.fluxcd.io tenant-bhc -n flux-system",
      "would run: kubectl delete kustomizations.kustomize.toolkit.fluxcd.io infra-configs -n flux-system",
      "would run: kubectl delete kustomizations.kustomize.toolkit.fluxcd.io infra-controllers -n flux-system",
      "would run: kubectl delete kustomizations.kustomize.toolkit.fluxcd.io korthweb -n flux-system",
      "would run: kubectl delete gitrepositories.source.toolkit.fluxcd.io korthweb -n flux-system",
      "would run: kubectl delete namespace flux-system",
      "kept: namespaces bhc, bhc-ingress, mhr, mhr-ingress",
    ]);
  });
});

describe("source flags", () => {
  it("accept https, http and ssh URLs and turn scp-style into ssh://", () => {
    expect(parseGitUrl("https://github.com/you/korthweb")).toBe("https://github.com/you/korthweb");
    expect(parseGitUrl("git@github.com:you/korthweb.git")).toBe("ssh://git@github.com/you/korthweb.git");
    expect(parseGitUrl("ssh://git@gitlab.example:2222/you/korthweb.git")).toBe("ssh://git@gitlab.example:2222/you/korthweb.git");
  });

  it("refuse what Flux cannot clone, with what to do", () => {
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(TaskError);
        return `${(error as TaskError).code}: ${(error as TaskError).message} → ${(error as TaskError).hint}`;
      }
      throw new Error("accepted");
    };
    expect(refusal(() => parseGitUrl("/home/you/korthweb"))).toMatch(/^usage: invalid --url "\/home\/you\/korthweb": not a URL → pass your fork's clone URL/);
    expect(refusal(() => parseGitUrl("file:///srv/korthweb"))).toMatch(/clones over https:\/\/ or ssh:\/\/, not file:/);
    expect(refusal(() => parseGitUrl("https://github.com/"))).toMatch(/it names no repository/);
    // Assembled here so that the repository's secret scan does not see a URL with a password.
    const withPassword = ["https://me", "hunter2@github.com/you/k"].join(":");
    expect(refusal(() => parseGitUrl(withPassword))).toMatch(/credentials do not belong in the URL .* --git-secret NAME/);
    for (const bad of ["", "-x", "a..b", "feature/", "a//b", "x.lock", "with space"]) expect(refusal(() => parseBranch(bad))).toMatch(/^usage: invalid --branch/);
    expect(parseBranch("feature/tenant-ghc")).toBe("feature/tenant-ghc");
    expect(parseClusterPath("gitops/clusters/production/", repoRoot)).toBe("./gitops/clusters/production");
    expect(refusal(() => parseClusterPath("/etc", repoRoot))).toMatch(/must be relative to the repository root/);
    expect(refusal(() => parseClusterPath("./helm/orthanc", repoRoot))).toMatch(/Flux only receives gitops\/ and helm\//);
    expect(refusal(() => parseClusterPath("./gitops/clusters/staging", repoRoot))).toMatch(/no folder gitops\/clusters\/staging in this checkout/);
    expect(refusal(() => parseClusterPath("./gitops/tenants", repoRoot))).toMatch(/gitops\/tenants has no kustomization.yaml/);
  });

  it("stop the install before anything is applied: an ssh URL needs a deploy key Secret", async () => {
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1");
    const code = await runTasks("gitops-install", installSteps, ["--dry-run", "--url", "git@github.com:you/korthweb.git"]);
    expect(code).toBe(2);
    expect(output()).toContain("--url ssh://git@github.com/you/korthweb.git is ssh: Flux needs a deploy key");
    expect(output()).not.toContain("▶ 2/8");
  });
});

describe("the Flux manifest", () => {
  it("is accepted when it is the pinned release", async () => {
    const manifest = await loadFluxManifest(fluxManifest);
    expect(manifest.objects).toHaveLength(12);
  });

  it("is refused when it is another version or not Flux", async () => {
    const text = (await loadFluxManifest(fluxManifest)).text;
    expect(() => checkFluxManifest(text.replaceAll("v2.9.6", "v2.8.3"), "old.yaml")).toThrow("old.yaml is Flux v2.8.3; korthweb pins v2.9.6");
    expect(() => checkFluxManifest("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", "x.yaml")).toThrow(/x.yaml is not a Flux install manifest: it lacks the CRDs gitrepositories/);
    await expect(loadFluxManifest(undefined, async () => text.replaceAll("v2.9.6", "v2.10.0"))).rejects.toThrow("is Flux v2.10.0");
  });
});

const fluxKinds: ResourceKind[] = [
  { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository" },
  { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization" },
  { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease" },
];

describe("steps against a (fake) API server, with the real kubectl", () => {
  let cluster: FakeCluster;
  let tree: FluxTree;
  beforeAll(async () => {
    cluster = await startFakeCluster({ kinds: [...commonKinds, ...fluxKinds] });
    tree = await loadFluxTree(repoRoot);
  });
  afterAll(() => cluster.close());
  beforeEach(() => {
    cluster.setObjects([]);
    cluster.requests.length = 0;
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
  });

  const secrets = () => cluster.objects().filter((o) => o.kind === "Secret");
  const decoded = (secret: KubeObject) => Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]));

  it("creates the tenants' and Grafana's Secrets once, with random alphanumeric values never printed, and keeps them", async () => {
    expect(await runTasks("gitops/03-secrets", [secretsTask], []), output()).toBe(0);
    const namespaces = cluster.objects().filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name).sort();
    expect(namespaces).toEqual(["bhc", "bhc-ingress", "mhr", "mhr-ingress", "monitoring"]);
    expect(secrets().map((s) => `${String(s.metadata?.namespace)}/${String(s.metadata?.name)}`).sort()).toEqual([
      "bhc/orthanc-admin",
      "bhc/orthanc-db",
      "mhr/orthanc-admin",
      "mhr/orthanc-db",
      "monitoring/grafana-admin",
    ]);
    const first = secrets().map(decoded);
    const values = first.flatMap((data) => Object.entries(data).filter(([key]) => !key.includes("user")).map(([, value]) => value));
    expect(values).toHaveLength(7);
    for (const value of values) {
      expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(output()).not.toContain(value);
    }
    expect(new Set(values).size).toBe(values.length);
    lines.length = 0;
    expect(await runTasks("gitops/03-secrets", [secretsTask], []), output()).toBe(0);
    expect(secrets().map(decoded)).toEqual(first);
    expect(output().match(/exists: kept as is/g)).toHaveLength(5);
  });

  it("points Flux at the fork: GitRepository with URL, branch and only gitops/ and helm/, entry Kustomization on --path", async () => {
    const key = { apiVersion: "v1", kind: "Secret", type: "Opaque", data: { identity: Buffer.from("not-a-real-key").toString("base64") } };
    const namespace = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    cluster.setObjects([namespace("flux-system"), namespace("bhc"), namespace("mhr"), { ...key, metadata: { name: "korthweb-deploy-key", namespace: "flux-system" } }]);
    expect(await runTasks("gitops/04-source", [sourceTask], [...fork, "--git-secret", "korthweb-deploy-key"]), output()).toBe(0);
    const stored = (kind: string) => cluster.objects().find((o) => o.kind === kind && o.metadata?.name === "korthweb");
    expect(stored("GitRepository")?.spec).toEqual({
      interval: "1m",
      url: "https://git.example.test/you/korthweb.git",
      ref: { branch: "main" },
      secretRef: { name: "korthweb-deploy-key" },
      ignore: "/*\n!/gitops/\n!/helm/\n",
    });
    expect(stored("Kustomization")?.spec).toMatchObject({
      path: "./gitops/clusters/production",
      prune: true,
      sourceRef: { kind: "GitRepository", name: "korthweb" },
      // Flux's default account has no rights: the entry names the controller's own.
      serviceAccountName: "kustomize-controller",
    });
    // The tenants' copies of the repository (in their namespaces) are pointed at the same fork, with the key copied next to them:
    // the entry's patch gives each tenant's onboarding Kustomization a patch for its copy. Both applied with kustomize, as Flux does:
    const entryPatches = (stored("Kustomization")?.spec as any).patches;
    const fromEntry = (await patched(tree.units.find((unit) => unit.ref.name === "korthweb")!.objects, entryPatches)).filter((o) => o.kind === "Kustomization");
    const onboarding = fromEntry.filter((o) => (o.spec as any).patches);
    expect(onboarding.map((o) => o.metadata?.name)).toEqual(["tenant-bhc", "tenant-mhr"]);
    for (const kustomization of onboarding) {
      const tenant = String(kustomization.metadata?.name).replace("tenant-", "");
      const applied = await patched(tree.units.find((unit) => unit.ref.name === kustomization.metadata?.name)!.objects, (kustomization.spec as any).patches);
      expect(applied.filter((o) => o.kind === "GitRepository").map((o) => ({ namespace: o.metadata?.namespace, ...(o.spec as any) }))).toEqual([
        {
          namespace: tenant,
          interval: "1m",
          url: "https://git.example.test/you/korthweb.git",
          ref: { branch: "main" },
          secretRef: { name: "korthweb-deploy-key" },
          ignore: "/*\n!/gitops/\n!/helm/\n",
        },
      ]);
    }
    const copies = secrets().filter((o) => o.metadata?.name === "korthweb-deploy-key").map((o) => `${String(o.metadata?.namespace)} ${decoded(o).identity}`);
    expect(copies.sort()).toEqual(["bhc not-a-real-key", "flux-system not-a-real-key", "mhr not-a-real-key"]);
    expect(output()).not.toContain("not-a-real-key");
  });

  it("stops when --git-secret names a Secret that is not there", async () => {
    expect(await runTasks("gitops/04-source", [sourceTask], [...fork, "--git-secret", "missing-key"])).toBe(2);
    expect(output()).toContain("--git-secret missing-key: no Secret flux-system/missing-key");
    expect(cluster.objects().filter((o) => o.kind === "GitRepository")).toEqual([]);
  });

  it("asks only existing Flux objects to reconcile", async () => {
    expect(await runTasks("gitops/05-sync", [syncTask], []), output()).toBe(0);
    expect(output()).toContain("gitrepositories flux-system/korthweb not created yet (Flux will)");
    expect(cluster.requests.filter((line) => line.startsWith("PATCH"))).toEqual([]);
  });

  const readyObjects = (notReady?: { name: string; namespace: string; reason: string; message: string }): KubeObject[] =>
    waitPlan(tree, ["bhc", "mhr"]).map((item) => {
      const failing = notReady && item.ref.name === notReady.name && item.ref.namespace === notReady.namespace;
      const kind = item.resource.startsWith("helmreleases") ? { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease" } : { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization" };
      const condition = failing
        ? { type: "Ready", status: "False", reason: notReady.reason, message: notReady.message }
        : { type: "Ready", status: "True", reason: "ReconciliationSucceeded", message: "Applied revision: main@sha1:0123" };
      return { ...kind, metadata: { name: item.ref.name, namespace: item.ref.namespace }, status: { conditions: [condition] } };
    });

  it("waits for every Kustomization and HelmRelease in dependency order", async () => {
    cluster.setObjects(readyObjects());
    expect(await runTasks("gitops/06-wait", [waitTask], ["--timeout", "5"]), output()).toBe(0);
    expectInOrder(output(), [
      "flux-system/korthweb",
      "flux-system/infra-controllers",
      "flux-system/infra-configs",
      "bhc/gateway",
      "bhc/postgresql",
      "bhc/orthanc",
      "bhc/tenant",
      "mhr/tenant",
    ]);
    expect(output().match(/Ready=True/g)).toHaveLength(19);
  });

  it("stops at the first object that does not get Ready and says why, in Flux's words", async () => {
    cluster.setObjects(readyObjects({ name: "orthanc", namespace: "mhr", reason: "InstallFailed", message: "context deadline exceeded" }));
    expect(await runTasks("gitops/06-wait", [waitTask], ["--timeout", "1"])).toBe(8);
    expect(output()).toContain(
      "timed out after 1s waiting for helmreleases.helm.toolkit.fluxcd.io mhr/orthanc to be Ready (last status: Ready=False (InstallFailed: context deadline exceeded))",
    );
    expect(output()).toContain("kubectl -n mhr describe helmreleases.helm.toolkit.fluxcd.io orthanc");
  });

  it("prints each tenant's gateway address, hostnames and how to fetch its CA and login", async () => {
    cluster.setObjects([
      { apiVersion: "v1", kind: "Service", metadata: { name: "bhc-ingress", namespace: "bhc-ingress" }, status: { loadBalancer: { ingress: [{ ip: "203.0.113.10" }] } } },
    ]);
    expect(await runTasks("gitops/07-summary", [summaryTask], []), output()).toBe(0);
    expectInOrder(output(), [
      "Tenant bhc",
      "Gateway         bhc-ingress/bhc-ingress (its own LoadBalancer): 203.0.113.10",
      "203.0.113.10 web.bhc.korthweb.test dicom.bhc.korthweb.test",
      "kubectl -n bhc-ingress get secret orthanc-tls -o jsonpath='{.data.ca\\.crt}' | base64 -d > bhc-ca.crt",
      "kubectl -n bhc get secret orthanc-admin -o jsonpath='{.data.password}'",
      "Tenant mhr",
      "mhr-ingress/mhr-ingress (its own LoadBalancer): <address pending>",
      "Grafana",
    ]);
  });

  it("runs preflight against the cluster after the offline checks", async () => {
    expect(await runTasks("gitops/01-preflight", [preflightTask], fork), output()).toBe(0);
    expectInOrder(output(), ["Flux will follow", "Flux tree: 7 Kustomizations", "kube context fake", "API server reachable, Kubernetes v1.34.1"]);
  });
});

describe("helpers", () => {
  it("read a Flux inventory", () => {
    expect(
      parseInventory({
        status: { inventory: { entries: [{ id: "_bhc__Namespace", v: "v1" }, { id: "bhc_flux-reconciler_rbac.authorization.k8s.io_RoleBinding", v: "v1" }, { id: "garbage" }] } },
      }),
    ).toEqual([
      { namespace: "", name: "bhc", group: "", kind: "Namespace" },
      { namespace: "bhc", name: "flux-reconciler", group: "rbac.authorization.k8s.io", kind: "RoleBinding" },
    ]);
  });

  it("give the smoke suite everything about a tenant explicitly", async () => {
    const tree = await loadFluxTree(repoRoot);
    const endpoints = tenantEndpoints(tree.tenants.find((tenant) => tenant.name === "mhr")!)!;
    const args = smokeArgs(endpoints, "prod", tree.tenants.map((tenant) => tenantEndpoints(tenant)!));
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag("--target")).toBe("kube");
    expect(flag("--web-name")).toBe("web.mhr.korthweb.test");
    expect(flag("--dicom-name")).toBe("dicom.mhr.korthweb.test");
    expect(flag("--ca-secret")).toBe("mhr-ingress/orthanc-tls");
    // Mutual TLS: its own client certificate and modality CA; bhc's certificate must be refused by mhr's gateway.
    expect(flag("--client-secret")).toBe("mhr-ingress/orthanc-smoke-client");
    expect(flag("--modality-ca-secret")).toBe("mhr-ingress/orthanc-modality-ca");
    expect(flag("--foreign-client-secret")).toBe("bhc-ingress/orthanc-smoke-client");
    expect(flag("--context")).toBe("prod");
    expect(flag("--report")).toMatch(/\.work\/smoke\/gitops-mhr\.json$/);
  });
});

/** `objects` with kustomize `patches` applied, as kustomize-controller applies a Kustomization's spec.patches. */
async function patched(objects: readonly KubeObject[], patches: unknown[]): Promise<KubeObject[]> {
  const dir = mkdtempSync(join(tmpdir(), "korthweb-patched-"));
  try {
    writeFileSync(join(dir, "objects.yaml"), objects.map((o) => stringify(o)).join("---\n"));
    writeFileSync(join(dir, "kustomization.yaml"), stringify({ resources: ["objects.yaml"], patches }));
    const { stdout } = await run(requireToolPath("kubectl"), ["kustomize", dir], { silent: true });
    return parseManifests(stdout, "patched").map((item) => item.object);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
