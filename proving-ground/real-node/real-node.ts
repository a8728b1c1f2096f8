// `make cluster-up ARGS=--real-node` / `make cluster-down`: the simulated
// cluster's control plane (same binaries, started by kwokctl, no kwok
// controller) listening on the node IP, plus one real node on this machine:
// containerd + runc + bridge CNI (Debian packages), kubelet and kube-proxy
// (built from the Go module proxy), then CoreDNS, local-path-provisioner,
// MetalLB's controller and the Traefik stand-in as pods from images built here.
// Everything it changes on the host is recorded first and undone on the way down.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo } from "../../tasks/lib/go.ts";
import { log, progress } from "../../tasks/lib/log.ts";
import { toYaml, type KubeObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { waitUntil } from "../../tasks/lib/wait.ts";
import { ensurePackages } from "../local/packages.ts";
import { buildAll, describeBuild } from "../cluster/build.ts";
import { clusterState, components, describeComponents, startCluster, stopCluster } from "../cluster/cluster.ts";
import { binaries, contextName, type ClusterLayout } from "../cluster/layout.ts";
import { buildNode, nodeBinaries } from "./builds.ts";
import { diffHostState, readHostState } from "./host-state.ts";
import {
  createNodeLink,
  kubeletCgroups,
  recordedHostBefore,
  recordHostBefore,
  removeCgroups,
  removeNewLinks,
  removeNewPaths,
  removeNodeChains,
  restoreSysctls,
  setSysctl,
  unmountNew,
} from "./host-changes.ts";
import { buildImages, imageByName, importImages, tagImage, upstreamOrthancImage, type BuiltImage } from "./images.ts";
import { addresses, nodeLayout, nodeName } from "./layout.ts";
import { runningNodeProcesses, startApiForwarder, startContainerd, startKubelet, startKubeProxy, stopNode } from "./node.ts";
import { nodePackages, readMachineFacts, requireRealNodeMachine } from "./preflight.ts";
import { traefikStandIn } from "./stand-ins.ts";
import type { NodeExtra } from "./extra.ts";
import { corednsObjects, localPathObjects, metallbObjects, moduleDir } from "./system.ts";

export type RealNodeState = "absent" | "running" | "stale";

export function realNodeState(cluster: ClusterLayout): RealNodeState {
  const layout = nodeLayout(cluster.dir);
  if (!existsSync(layout.dir)) return "absent";
  const running = runningNodeProcesses(layout, nodeBinaries());
  return running.length === 4 && clusterState(cluster, binaries()) === "running" ? "running" : "stale";
}

async function kubectl(cluster: ClusterLayout, args: string[], input?: string): Promise<string> {
  const { stdout } = await run(binaries().kubectl, ["--kubeconfig", cluster.kubeconfig, "--context", contextName(cluster), ...args], { silent: true, ...(input ? { input } : {}), timeoutMs: 300_000 });
  return stdout;
}

const apply = (cluster: ClusterLayout, objects: readonly KubeObject[]) => kubectl(cluster, ["apply", "--server-side", "--force-conflicts", "--field-manager=korthweb", "-f", "-"], toYaml(objects));

async function timed<T>(what: string, action: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = Date.now();
  const line = progress(what);
  try {
    const value = await action();
    line.done(what);
    return { value, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    line.fail(`${what}: failed`);
    throw error;
  }
}

async function waitForDeployments(cluster: ClusterLayout, namespace: string, timeoutMs = 300_000): Promise<void> {
  await waitUntil({
    what: `Deployments in ${namespace} to be Available`,
    timeoutMs,
    hint: `kubectl -n ${namespace} get pods -o wide; kubectl -n ${namespace} describe pods`,
    check: async () => {
      const list = JSON.parse(await kubectl(cluster, ["-n", namespace, "get", "deployments", "-o", "json"])) as { items: { metadata: { name: string }; spec: { replicas?: number }; status: { availableReplicas?: number } }[] };
      const waiting = list.items.filter((item) => (item.status.availableReplicas ?? 0) < (item.spec.replicas ?? 1)).map((item) => item.metadata.name);
      return { done: list.items.length > 0 && waiting.length === 0, status: waiting.length ? `waiting for ${waiting.join(", ")}` : "all available" };
    },
  });
}

export interface RealNodeReport {
  seconds: Record<string, number>;
  images: BuiltImage[];
}

const imageValues = (image: string) => ({ repository: image.slice(0, image.lastIndexOf(":")), tag: image.slice(image.lastIndexOf(":") + 1), digest: "" });

/** The values that point helm/orthanc at the images built here: Orthanc, and pg_dump for the backup CronJob. */
export function valuesFileText(images: { orthanc: string; postgresql: string }): string {
  return [
    "# Written by `make cluster-up ARGS=--real-node` (proving-ground/real-node): points helm/orthanc at the images",
    "# built on this machine: Orthanc 1.13 from Debian sid (a STAND-IN for orthancteam/orthanc, same layout), and",
    "# PostgreSQL 15 from bookworm for the backup CronJob's pg_dump (a STAND-IN for bitnami's image, same major as the",
    "# PostgreSQL stand-in it dumps).",
    stringify({ image: { ...imageValues(images.orthanc), pullPolicy: "Never" }, backup: { image: imageValues(images.postgresql) } }),
  ].join("\n");
}

/** Starts the control plane and the real node; `cluster` is the simulated cluster's layout (kubeconfig, kwokctl folder). */
export async function realNodeUp(cluster: ClusterLayout, extras: readonly NodeExtra[] = []): Promise<RealNodeReport | undefined> {
  const layout = nodeLayout(cluster.dir);
  requireRealNodeMachine(await readMachineFacts());
  const state = realNodeState(cluster);
  if (state === "running") {
    log.ok(`cluster ${cluster.name} with its real node ${nodeName} is already running; ${extras.length ? `installing ${extras.map((extra) => extra.name).join(", ")} (if not there yet)` : "nothing changed"}:`);
    for (const line of describeComponents(components(cluster, binaries()))) log.info(line);
    for (const { process, pid } of runningNodeProcesses(layout, nodeBinaries())) log.info(`${process.name} (pid ${pid})`);
    if (extras.length) {
      const built = await buildExtras(extras);
      await importImages(layout.containerdSocket, built.flatMap((extra) => extra.images));
      await installExtras(cluster, built);
    }
    return undefined;
  }
  if (state === "absent" && (await readMachineFacts()).linkExists) {
    throw new TaskError(`a real node already runs on this machine (its interface ${addresses.nodeLink} exists), started from another work folder; one machine holds one real node. Nothing was changed`, {
      code: "usage",
      hint: `make cluster-down with that folder's KORTHWEB_WORK_DIR (or wait for the test file that runs it)`,
    });
  }
  if (state === "absent" && clusterState(cluster, binaries()) !== "absent") {
    throw new TaskError(`a simulated cluster ${cluster.name} is already running (kwok nodes); the real node needs a cluster of its own. Nothing was changed`, {
      code: "usage",
      hint: "make cluster-down, then make cluster-up ARGS=--real-node",
    });
  }
  if (state === "stale") {
    log.warn(`the real node of cluster ${cluster.name} was left half-running: tearing it down and starting afresh`);
    await realNodeDown(cluster);
  }
  const seconds: Record<string, number> = {};
  await ensurePackages(nodePackages);
  const build = await buildAll();
  log.ok(describeBuild(build));
  const nodeBuild = await timed("building kubelet, kube-proxy and the system components (cached after the first time)", () => buildNode());
  seconds.buildNode = nodeBuild.seconds;
  const images = (await timed("building the images (cached by content)", () => buildImages(nodeBuild.value.binaries))).value;
  const image = (name: string) => imageByName(images, name);
  const built = await buildExtras(extras);
  for (const extra of built) seconds[`build ${extra.extra.name}`] = extra.seconds;

  const started = Date.now();
  mkdirSync(layout.dir, { recursive: true });
  await recordHostBefore(layout);
  await createNodeLink();
  setSysctl("net.ipv4.ip_forward", "1");
  setSysctl("net.bridge.bridge-nf-call-iptables", "1");
  // kwokctl's binary runtime talks to its components on 127.0.0.1 only, so they listen there; pods reach
  // the API server at the address it advertises (the node IP) through a forwarder (node.ts).
  const controlPlane = await startCluster(cluster, build.binaries, 0, {
    bindAddress: "127.0.0.1",
    certSANs: [addresses.nodeIp, addresses.apiServiceIp],
    extraArgs: {
      // The node by its IP: its name would be looked up in the machine's DNS.
      "kube-apiserver": { "service-cluster-ip-range": addresses.serviceCidr, "advertise-address": addresses.nodeIp, "kubelet-preferred-address-types": "InternalIP" },
      "kube-controller-manager": { "service-cluster-ip-range": addresses.serviceCidr },
    },
    disable: ["kwok-controller"],
  });
  seconds.controlPlane = controlPlane.seconds.start + controlPlane.seconds.crds;
  await startApiForwarder(layout, cluster.kubeconfig);
  seconds.containerd = (await timed("starting containerd and importing the images", async () => {
    await startContainerd(layout, image("pause"));
    await importImages(layout.containerdSocket, [...images, ...built.flatMap((extra) => extra.images)]);
    await tagImage(layout.containerdSocket, image("orthanc"), upstreamOrthancImage());
  })).seconds;
  log.info(`Orthanc image stand-in (Debian sid's Orthanc 1.13) also named ${upstreamOrthancImage()} in the node's containerd: the name manual/ and the gitops HelmReleases pin`);
  seconds.node = (await timed(`starting kubelet and kube-proxy; node ${nodeName} Ready`, async () => {
    startKubelet(layout, nodeBuild.value.binaries, cluster.kubeconfig);
    startKubeProxy(layout, nodeBuild.value.binaries, cluster.kubeconfig);
    await kubectl(cluster, ["wait", "--for=condition=Ready", `node/${nodeName}`, "--timeout=180s"]).catch(async (error) => {
      // The node object appears a moment after the kubelet starts.
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await kubectl(cluster, ["wait", "--for=condition=Ready", `node/${nodeName}`, "--timeout=180s"]).catch(() => {
        throw error;
      });
    });
  })).seconds;
  const go = await requireGo("reading the system components' manifests");
  seconds.system = (await timed("CoreDNS, local-path-provisioner, MetalLB controller, Traefik stand-in", async () => {
    await apply(cluster, corednsObjects(image("coredns")));
    await apply(cluster, localPathObjects(await moduleDir(go, "localPathProvisioner"), { coredns: image("coredns"), metallb: image("metallb"), localPathProvisioner: image("localpathprovisioner"), helper: image("postgresql") }, join(layout.dir, "volumes")));
    const metallb = metallbObjects(await moduleDir(go, "metallb"), image("metallb"));
    await apply(cluster, metallb.filter((object) => object.kind !== "IPAddressPool"));
    await kubectl(cluster, ["wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"]);
    await apply(cluster, metallb.filter((object) => object.kind === "IPAddressPool"));
    await apply(cluster, traefikStandIn(image("traefik")));
    for (const namespace of ["kube-system", "local-path-storage", "metallb-system", "traefik"]) await waitForDeployments(cluster, namespace);
    await waitUntil({
      what: "MetalLB to give the Traefik stand-in's Service a LoadBalancer address",
      timeoutMs: 120_000,
      hint: "kubectl -n metallb-system logs deploy/controller; kubectl -n traefik describe service traefik",
      check: async () => {
        const address = await kubectl(cluster, ["-n", "traefik", "get", "service", "traefik", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"]);
        return { done: address.trim() !== "", status: address.trim() || "pending" };
      },
    });
  })).seconds;
  Object.assign(seconds, await installExtras(cluster, built));
  writeFileSync(layout.valuesFile, valuesFileText({ orthanc: image("orthanc"), postgresql: image("postgresql") }));
  writeFileSync(layout.images, stringify(Object.fromEntries([...images, ...built.flatMap((extra) => extra.images)].map((one) => [one.spec.name, one.name]))));
  seconds.start = (Date.now() - started) / 1000;
  return { seconds, images };
}

interface BuiltExtra {
  extra: NodeExtra;
  images: BuiltImage[];
  seconds: number;
}

/** Builds the extras (cached by content) before anything on the host changes. */
async function buildExtras(extras: readonly NodeExtra[]): Promise<BuiltExtra[]> {
  const built: BuiltExtra[] = [];
  for (const extra of extras) built.push({ extra, ...(await timed(`building ${extra.name} (cached by content)`, () => extra.build())).value });
  return built;
}

/** Installs each extra into the running cluster; seconds per extra. */
async function installExtras(cluster: ClusterLayout, built: readonly BuiltExtra[]): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  const helm = async (args: string[]) => (await run(requireToolPath("helm"), ["--kubeconfig", cluster.kubeconfig, "--kube-context", contextName(cluster), ...args], { silent: true, timeoutMs: 600_000 })).stdout;
  const dir = join(nodeLayout(cluster.dir).dir, "extras");
  mkdirSync(dir, { recursive: true });
  for (const { extra, images } of built) {
    seconds[extra.name] = (await timed(`${extra.name}: ${extra.summary}`, () => extra.install({ cluster, kubectl: (args, input) => kubectl(cluster, args, input), helm, dir }, images))).seconds;
  }
  return seconds;
}

/** Stops the node and the control plane and undoes every host change recorded on the way up. Returns what remains different (empty: clean). */
export async function realNodeDown(cluster: ClusterLayout): Promise<string[]> {
  const layout = nodeLayout(cluster.dir);
  const before = recordedHostBefore(layout);
  const stopped = await stopNode(layout, nodeBinaries());
  if (stopped.length) log.ok(`stopped ${stopped.join(", ")}`);
  if (clusterState(cluster, binaries()) !== "absent") await stopCluster(cluster, binaries());
  const unmounted = await unmountNew([layout.dir, "/run/netns", "/var/run/netns", "/run/containerd", "/var/lib/kubelet"], before);
  const leftCgroups = removeCgroups(kubeletCgroups());
  const links = await removeNewLinks(before);
  const chains = await removeNodeChains(before);
  const paths = await removeNewPaths(before);
  const sysctls = restoreSysctls(before);
  log.ok(
    `host restored: ${unmounted.length} mounts, ${links.length} links (${links.join(", ") || "-"}), ${chains.length} iptables chains, ` +
      `${paths.length} paths, sysctls ${sysctls.join(", ") || "unchanged"}${leftCgroups.length ? `; cgroups left: ${leftCgroups.join(", ")}` : ""}`,
  );
  rmSync(layout.dir, { recursive: true, force: true });
  rmSync(layout.valuesFile, { force: true });
  if (!before) return [];
  const differences = diffHostState(before, await readHostState());
  if (differences.length) log.warn(`the host still differs from before cluster-up:\n    ${differences.join("\n    ")}`);
  return differences;
}

export function realNodeUsage(cluster: ClusterLayout): string[] {
  const layout = nodeLayout(cluster.dir);
  const kubeconfig = relative(repoRoot, cluster.kubeconfig);
  return [
    `  kubeconfig   ${kubeconfig} (context ${contextName(cluster)}; your ~/.kube/config is not touched)`,
    `  use it       export KUBECONFIG=$PWD/${kubeconfig}`,
    `  stand-ins    Traefik runs as a stand-in for its chart; PostgreSQL's stand-in: node proving-ground/real-node/postgresql.ts`,
    `  then         make helm-install ARGS=--skip-upstream VALUES=${relative(repoRoot, layout.valuesFile)} && make smoke`,
    `  or           node proving-ground/real-node/postgresql.ts --approach manual && make manual-install ARGS=--skip-upstream`,
    `  or           node proving-ground/real-node/postgresql.ts --approach gitops && make gitops-install ARGS="--skip-upstream --url <your fork> --branch main"`,
    `  stop         make cluster-down   (stops everything and restores the host)`,
  ];
}
