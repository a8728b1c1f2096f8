// The manual and gitops approaches on a real node (issue 15): one real-node
// cluster for the file (make cluster-up ARGS=--real-node), then as a user runs
// them, each through its make targets with --skip-upstream (Istio,
// cert-manager, Flux, kube-prometheus-stack and bitnami's PostgreSQL come from
// registries on the internet):
//   manual: the PostgreSQL stand-in (the manual step 4 makes the namespace and
//   Secret, the stand-in replaces its bitnami chart) → make manual-install
//   (every committed file, manual/05-orthanc/orthanc.yaml unchanged) → Orthanc
//   pods Running and Ready against that real PostgreSQL → metrics → make
//   manual-uninstall PURGE=1 leaves nothing;
//   gitops: a PostgreSQL stand-in per tenant (from the tenant's PostgreSQL
//   HelmRelease values; gitops step 3 makes namespaces and Secrets) → make
//   gitops-install. Flux's controllers cannot run here (their images come from
//   a registry), so tasks/gitops/without-flux.ts does their work from this
//   checkout: each Flux Kustomization's kustomize output, postBuild variables
//   filled in, applied in dependency order, and each tenant's HelmRelease of
//   ./helm/orthanc installed with `helm upgrade --install` under its
//   releaseName with its spec.values (what helm-controller does) → bhc and
//   mhr Orthanc Running and Ready → metrics → make gitops-uninstall PURGE=1.
// No Istio data plane: envoy cannot be built here (and istiod's injector is
// not installed), so the pods run without their istio-proxy sidecar. That
// leaves unproven here: sidecar injection, STRICT mutual TLS between pods,
// the AuthorizationPolicies in effect, the Istio gateways (443 and 11112)
// and Prometheus scraping over the mesh's https. `make smoke` is not run for
// these two approaches: its traffic enters through an Istio gateway.
// The Orthanc image is the Debian-built STAND-IN for orthancteam/orthanc,
// also named in containerd as the committed YAML pins it (nothing in manual/,
// helm/ or gitops/ changes for the tier). Metrics: every orthanc_* name the
// committed Grafana dashboards query (parsed from their JSON) must be served on
// the path, port and basic auth the approach's ServiceMonitor (read back from
// the API server) resolves to, on every Orthanc pod, after that pod's first
// C-STORE and first failed job (the two events two of those metrics wait for).
// make cluster-down last; the host must be as before. Needs root and
// overlayfs: in CI (CI=true) a machine without them FAILS this file with the
// reason; elsewhere it is skipped with the reason printed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { podsWithoutSidecar } from "../../tasks/manual/09-verify.ts";
import { upstreamOrthancImage } from "../../proving-ground/real-node/images.ts";
import { committedDashboards, scrape, serviceMonitorTargets, type ScrapeTarget } from "../../proving-ground/real-node/metrics.ts";
import { deleteInstance, failOneJob, storeOneInstance, systemOf, type OrthancPod } from "../../proving-ground/real-node/orthanc-events.ts";
import { nodeLayout } from "../../proving-ground/real-node/layout.ts";
import { output, printed, RealNodeSession, realNodeBlockers } from "../helpers/real-node-cluster.ts";

const blockers = await realNodeBlockers();

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}
interface Pod {
  metadata: { name: string; namespace: string; creationTimestamp: string };
  spec: {
    containers: { name: string; image: string; env?: { valueFrom?: { secretKeyRef?: { name: string } } }[] }[];
    initContainers?: { name: string; image: string; env?: { valueFrom?: { secretKeyRef?: { name: string } } }[] }[];
    volumes?: { secret?: { secretName: string }; projected?: { sources?: { secret?: { name: string } }[] } }[];
  };
  status: { phase: string; podIP?: string; conditions?: Condition[]; containerStatuses?: { name: string; image: string; ready: boolean; restartCount: number }[] };
}

/** Seconds from a pod's creation to its Ready condition (the API server's timestamps, 1 s resolution). */
const readySeconds = (pod: Pod) => {
  const ready = pod.status.conditions?.find((c) => c.type === "Ready" && c.status === "True");
  return ready?.lastTransitionTime ? (Date.parse(ready.lastTransitionTime) - Date.parse(pod.metadata.creationTimestamp)) / 1000 : Number.NaN;
};

/** Every Secret a pod reads (env secretKeyRef, secret and projected volumes). */
const secretsRead = (pod: Pod) =>
  [
    ...[...pod.spec.containers, ...(pod.spec.initContainers ?? [])].flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : []))),
    ...(pod.spec.volumes ?? []).flatMap((v) => [...(v.secret ? [v.secret.secretName] : []), ...(v.projected?.sources ?? []).flatMap((s) => (s.secret ? [s.secret.name] : []))]),
  ].filter((name, index, all) => all.indexOf(name) === index).sort();

describe.skipIf(blockers.length > 0)("the manual and gitops approaches on a real node", () => {
  const session = new RealNodeSession("korthweb-real-node-approaches-");
  const { clusterDir } = session;
  const readyTimes: Record<string, number[]> = {};
  const orthancSelector = "app.kubernetes.io/name=orthanc,app.kubernetes.io/component=server";
  const gitopsSource = "--url https://example.invalid/you/korthweb.git --branch main";

  const { timings, timed, make, node, kubectl, kubectlJson } = session;
  const orthancPods = async (namespace: string) => (await kubectlJson<{ items: Pod[] }>(["-n", namespace, "get", "pods", "-l", orthancSelector])).items;
  const evidence = async (label: string) => console.log(`kubectl get pods -A -o wide (${label}):\n${(await kubectl(["get", "pods", "-A", "-o", "wide"])).stdout}`);

  /** PersistentVolumes and ClusterIssuers left (the provisioner deletes a released volume's folder a moment after its claim goes). */
  const leftCluster = async () => {
    let left = "";
    for (let attempt = 0; attempt < 30; attempt++) {
      left = (await kubectl(["get", "pv,clusterissuers.cert-manager.io", "-o", "name"])).stdout.trim();
      if (left === "") break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    return left;
  };

  /** The node's containerd: image name → manifest digest. */
  const containerdImages = async () => {
    const listed = await run("ctr", ["--address", nodeLayout(clusterDir).containerdSocket, "-n", "k8s.io", "images", "list"], { allowFailure: true, silent: true });
    expect(listed.exitCode, listed.stderr).toBe(0);
    return new Map(listed.stdout.split("\n").slice(1).map((line) => line.trim().split(/\s+/)).filter((cols) => cols.length > 2).map((cols) => [cols[0]!, cols[2]!]));
  };

  /** Orthanc pods of `namespace` Running and Ready, no sidecar, the image stand-in under the pinned name, on the real PostgreSQL; records Ready times. */
  const expectOrthancRunning = async (namespace: string, replicas: number) => {
    const pods = await orthancPods(namespace);
    expect(pods.map((pod) => pod.metadata.name)).toHaveLength(replicas);
    const pinned = upstreamOrthancImage();
    const images = await containerdImages();
    const standIn = [...images.keys()].find((name) => name.startsWith("korthweb.local/orthanc:"));
    // The pinned name is only another name of the image built here (same manifest digest).
    expect(standIn, [...images.keys()].join(", ")).toBeDefined();
    expect(images.get(pinned)).toBe(images.get(standIn!));
    for (const pod of pods) {
      expect(pod.status.phase, pod.metadata.name).toBe("Running");
      expect(pod.status.conditions?.find((c) => c.type === "Ready")?.status, pod.metadata.name).toBe("True");
      expect(pod.spec.containers.map((c) => c.name), `${pod.metadata.name}: only Orthanc, no istio-proxy (no injector runs here)`).toEqual(["orthanc"]);
      expect(pod.status.containerStatuses?.[0]?.image).toBe(pinned);
      const system = await systemOf(await orthancPod(namespace, pod));
      expect(system.Version).toBe("1.13.0");
      expect(system.DatabaseBackendPlugin).toMatch(/libOrthancPostgreSQLIndex\.so$/);
      expect(system.StorageAreaPlugin).toMatch(/libOrthancPostgreSQLStorage\.so$/);
    }
    // What the manual step 9 would refuse: every Orthanc pod lacks its sidecar.
    expect(podsWithoutSidecar(pods).sort()).toEqual(pods.map((pod) => pod.metadata.name).sort());
    readyTimes[namespace] = pods.map(readySeconds);
    expect(readyTimes[namespace]!.every(Number.isFinite)).toBe(true);
    const ns = await kubectlJson<{ metadata: { labels: Record<string, string> } }>(["get", "namespace", namespace]);
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(ns.metadata.labels["istio-injection"]).toBe("enabled");
    return pods;
  };

  /** Reaching one pod as the events need it: pod IP, container ports, the login the ServiceMonitor uses. */
  const orthancPod = async (namespace: string, pod: Pod): Promise<OrthancPod> => {
    const secret = await kubectlJson<{ data: Record<string, string> }>(["-n", namespace, "get", "secret", "orthanc-admin"]);
    const decode = (key: string) => Buffer.from(secret.data[key] ?? "", "base64").toString("utf8");
    return { address: pod.status.podIP!, httpPort: 8042, dicomPort: 4242, auth: { username: decode("username"), password: decode("password") } };
  };

  /** The approach's Orthanc pods read only Secrets the install made: none that cert-manager would issue (so no stand-in for them). */
  const expectOnlyInstallSecrets = async (namespace: string) => {
    const read = [...new Set((await orthancPods(namespace)).flatMap(secretsRead))].sort();
    expect(read).toEqual(["orthanc-admin", "orthanc-db"]);
    for (const name of read) {
      const secret = await kubectlJson<{ metadata: { annotations?: Record<string, string> }; type: string }>(["-n", namespace, "get", "secret", name]);
      expect(secret.type).toBe("Opaque");
      expect(Object.keys(secret.metadata.annotations ?? {}).filter((key) => key.startsWith("cert-manager.io/"))).toEqual([]);
    }
  };

  /**
   * The dashboards' orthanc_* names against what the ServiceMonitor's targets serve: before any event, and after
   * one C-STORE and one failed job on each pod. Returns the names missing before the events, per pod.
   */
  const checkMetrics = async (namespace: string, monitorName: string) => {
    const dashboards = committedDashboards();
    expect(dashboards.length).toBeGreaterThan(0);
    const wanted = [...new Set(dashboards.flatMap((d) => d.metrics))].sort();
    expect(wanted.length).toBeGreaterThan(10);
    const monitor = await kubectlJson<KubeObject>(["-n", namespace, "get", "servicemonitor", monitorName]);
    const targets = await serviceMonitorTargets((args) => kubectlJson([...args]), monitor);
    const pods = await orthancPods(namespace);
    expect(targets.map((t) => t.pod).sort()).toEqual(pods.map((pod) => `${namespace}/${pod.metadata.name}`).sort());
    // The dashboards filter on job="…": Prometheus names the job after the Service the monitor selects.
    for (const job of dashboards.flatMap((d) => d.jobs)) expect(targets.every((t) => t.job === job), `job="${job}"`).toBe(true);
    // STRICT mutual TLS: Prometheus presents its sidecar's mesh certificate; no sidecar here, so Orthanc's HTTP behind it is scraped.
    expect(targets.every((t) => t.scheme === "https")).toBe(true);
    const scraped = async (target: ScrapeTarget) => {
      const answer = await scrape(target);
      expect(answer.status, `${target.pod} ${target.path}`).toBe(200);
      expect(answer.contentType).toMatch(/^text\/plain/);
      return answer;
    };
    const missing = (answer: { names: string[] }) => wanted.filter((name) => !answer.names.includes(name));
    const missingBefore: Record<string, string[]> = {};
    for (const target of targets) {
      const refused = await scrape(target, false);
      expect(refused.status, `${target.pod}: metrics without the ServiceMonitor's basic auth`).toBe(401);
      missingBefore[target.pod] = missing(await scraped(target));
    }
    for (const target of targets) {
      const pod = await orthancPod(namespace, pods.find((p) => `${namespace}/${p.metadata.name}` === target.pod)!);
      const stored = await storeOneInstance(pod);
      expect(stored.status).toBe(0);
      const job = await failOneJob(pod, stored.instanceId);
      expect(job.state, `job ${job.jobId}`).toBe("Failure");
      await deleteInstance(pod, stored.instanceId);
      const after = await scraped(target);
      expect(missing(after), `${target.pod}: dashboard metrics not served after a C-STORE and a failed job (${job.error})`).toEqual([]);
      // Finding of the first run: Orthanc 1.13 no longer serves orthanc_jobs_failed (what the dashboard queried until
      // then); its counter orthanc_jobs_total_failed counts the failed job, and the dashboard now queries that.
      expect(after.names, `${target.pod}: Orthanc 1.13 removed orthanc_jobs_failed`).not.toContain("orthanc_jobs_failed");
      expect(after.values.orthanc_jobs_total_failed, `${target.pod}: orthanc_jobs_total_failed after job ${job.jobId} failed`).toBeGreaterThanOrEqual(1);
    }
    console.log(`${namespace}: ${wanted.length} dashboard metrics from ${dashboards.map((d) => d.source).join("; ")}; served by ${targets.length} targets ${targets.map((t) => `${t.address}:${t.port}${t.path}`).join(", ")}; missing before the first C-STORE and failed job: ${JSON.stringify(missingBefore)}`);
    return missingBefore;
  };

  beforeAll(async () => {
    // Another test file may run its real node now: wait for it, then record the host as it is.
    await session.open();
    timings.waitedForRealNode = session.waitedSeconds;
  }, 3_700_000);

  afterAll(async () => {
    await session.close();
    console.log(`real-node tier (manual, gitops) timings (s): ${JSON.stringify(timings)}; pod created → Ready (s): ${JSON.stringify(readyTimes)}`);
  }, 600_000);

  it("make cluster-up ARGS=--real-node starts a Ready real node and names the Orthanc image stand-in as the committed YAML pins it", async () => {
    const result = await timed("clusterUp", () => make("cluster-up", { ARGS: "--real-node" }));
    session.up = true;
    expect(result.exitCode, output(result)).toBe(0);
    expect(printed(result)).toContain(`Orthanc image stand-in (Debian sid's Orthanc 1.13) also named ${upstreamOrthancImage()}`);
    const nodes = await kubectlJson<{ items: { status: { conditions: Condition[] } }[] }>(["get", "nodes"]);
    expect(nodes.items).toHaveLength(1);
    expect(nodes.items[0]!.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
  }, 1_800_000);

  describe("manual approach", () => {
    it("the PostgreSQL stand-in: the manual step 4 (namespace, Secret) with its bitnami chart replaced, data on a provisioned volume", async () => {
      const result = await timed("manualPostgresqlStandIn", () => node("proving-ground/real-node/postgresql.ts", ["--approach", "manual"]));
      expect(result.exitCode, output(result)).toBe(0);
      expect(printed(result)).toContain("[skip-upstream] not installing PostgreSQL");
      expect(printed(result)).toMatch(/PostgreSQL stand-in of the manual approach ready: Service orthanc\/orthanc-db-postgresql/);
      const pvcs = await kubectlJson<{ items: { status: { phase: string } }[] }>(["-n", "orthanc", "get", "pvc"]);
      expect(pvcs.items.map((pvc) => pvc.status.phase)).toEqual(["Bound"]);
      // The manual values name PostgreSQL's mesh identity; the stand-in runs under it.
      const pod = await kubectlJson<{ spec: { serviceAccountName: string } }>(["-n", "orthanc", "get", "pod", "orthanc-db-postgresql-0"]);
      expect(pod.spec.serviceAccountName).toBe("orthanc-db-postgresql");
    }, 900_000);

    it("make manual-install ARGS=--skip-upstream: Orthanc pods Running and Ready against the real PostgreSQL, without sidecars", async () => {
      const result = await timed("manualInstall", () => make("manual-install", { ARGS: "--skip-upstream" }));
      expect(result.exitCode, output(result)).toBe(0);
      for (const skipped of ["Istio", "cert-manager", "PostgreSQL", "kube-prometheus-stack"]) expect(printed(result)).toContain(`[skip-upstream] not installing ${skipped}`);
      await expectOrthancRunning("orthanc", 2);
      await evidence("manual approach installed");
    }, 1_200_000);

    it("its Orthanc pods read only the Secrets the install made (orthanc-admin, orthanc-db): none that cert-manager would issue", async () => {
      await expectOnlyInstallSecrets("orthanc");
    }, 120_000);

    it("every orthanc_* metric of the dashboard is served where the ServiceMonitor points, on every pod, after its first C-STORE and failed job", async () => {
      const started = Date.now();
      const missingBefore = await checkMetrics("orthanc", "orthanc");
      timings.manualMetrics = (Date.now() - started) / 1000;
      // Orthanc creates these two only on their first event; everything else is there from the start.
      for (const names of Object.values(missingBefore)) expect(names).toEqual(["orthanc_jobs_total_failed", "orthanc_store_dicom_duration_ms"]);
    }, 600_000);

    it("uninstall (the stand-in, then make manual-uninstall PURGE=1) leaves no namespace, volume or cluster issuer of the approach", async () => {
      const standIn = await node("proving-ground/real-node/postgresql.ts", ["--approach", "manual", "--uninstall"]);
      expect(standIn.exitCode, output(standIn)).toBe(0);
      const result = await timed("manualUninstall", () => make("manual-uninstall", { PURGE: "1" }));
      expect(result.exitCode, output(result)).toBe(0);
      for (const namespace of ["orthanc", "istio-system", "istio-ingress", "cert-manager", "monitoring", "kiali-operator"]) {
        const gone = await kubectl(["wait", "--for=delete", `namespace/${namespace}`, "--timeout=300s"]);
        expect(gone.exitCode, `${namespace}: ${output(gone)}`).toBe(0);
      }
      expect(await leftCluster()).toBe("");
    }, 900_000);
  });

  describe("gitops approach (tenants bhc and mhr)", () => {
    it("a PostgreSQL stand-in per tenant, from the tenant's HelmRelease values (gitops step 3 makes the namespaces and Secrets)", async () => {
      const result = await timed("gitopsPostgresqlStandIns", () => node("proving-ground/real-node/postgresql.ts", ["--approach", "gitops"]));
      expect(result.exitCode, output(result)).toBe(0);
      for (const tenant of ["bhc", "mhr"]) {
        expect(printed(result)).toContain(`PostgreSQL stand-in of tenant ${tenant} ready: Service ${tenant}/orthanc-db-postgresql`);
        const pvcs = await kubectlJson<{ items: { status: { phase: string } }[] }>(["-n", tenant, "get", "pvc"]);
        expect(pvcs.items.map((pvc) => pvc.status.phase)).toEqual(["Bound"]);
      }
    }, 900_000);

    it(`make gitops-install ARGS="--skip-upstream ${gitopsSource}": each tenant's Orthanc Running and Ready against its real PostgreSQL, without sidecars`, async () => {
      const result = await timed("gitopsInstall", () => make("gitops-install", { ARGS: `--skip-upstream ${gitopsSource}` }));
      expect(result.exitCode, output(result)).toBe(0);
      expect(printed(result)).toContain("[skip-upstream] not installing Flux");
      expect(printed(result)).toContain("no Flux controllers: applying the tree from this checkout in their place");
      for (const tenant of ["bhc", "mhr"]) await expectOrthancRunning(tenant, 2);
      await evidence("gitops approach installed");
    }, 1_200_000);

    it("each tenant's Orthanc pods read only the Secrets the install made: none that cert-manager would issue", async () => {
      for (const tenant of ["bhc", "mhr"]) await expectOnlyInstallSecrets(tenant);
    }, 120_000);

    it("every orthanc_* metric of the dashboard is served where each tenant's ServiceMonitor points, after the first C-STORE and failed job", async () => {
      const started = Date.now();
      for (const tenant of ["bhc", "mhr"]) {
        const missingBefore = await checkMetrics(tenant, "orthanc");
        for (const names of Object.values(missingBefore)) expect(names).toEqual(["orthanc_jobs_total_failed", "orthanc_store_dicom_duration_ms"]);
      }
      timings.gitopsMetrics = (Date.now() - started) / 1000;
    }, 600_000);

    it("uninstall (the stand-ins, then make gitops-uninstall PURGE=1) leaves no tenant namespace, volume or cluster issuer", async () => {
      const standIns = await node("proving-ground/real-node/postgresql.ts", ["--approach", "gitops", "--uninstall"]);
      expect(standIns.exitCode, output(standIns)).toBe(0);
      const result = await timed("gitopsUninstall", () => make("gitops-uninstall", { PURGE: "1", ARGS: "--skip-upstream" }));
      expect(result.exitCode, output(result)).toBe(0);
      for (const namespace of ["bhc", "bhc-ingress", "mhr", "mhr-ingress", "flux-system", "cert-manager", "istio-system", "monitoring", "kiali-operator"]) {
        const gone = await kubectl(["wait", "--for=delete", `namespace/${namespace}`, "--timeout=300s"]);
        expect(gone.exitCode, `${namespace}: ${output(gone)}`).toBe(0);
      }
      expect(await leftCluster()).toBe("");
    }, 900_000);
  });

  it("make cluster-down stops everything and leaves the host exactly as before", async () => {
    const { result, hostDifferences } = await session.bringDown();
    expect(result.exitCode, output(result)).toBe(0);
    expect(hostDifferences).toEqual([]);
  }, 600_000);
});
