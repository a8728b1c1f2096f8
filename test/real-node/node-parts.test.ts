// The real node's pure parts: what the preflight refuses, how iptables rules
// are split for deletion, how host states are compared, the configuration the
// processes get, and the OCI archive an image becomes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { diffHostState, type HostState } from "../../proving-ground/real-node/host-state.ts";
import { splitRule } from "../../proving-ground/real-node/host-changes.ts";
import { addresses, nodeLayout } from "../../proving-ground/real-node/layout.ts";
import { cniConflist, containerdConfig, kubeletConfig, kubeProxyConfig } from "../../proving-ground/real-node/node-config.ts";
import { writeOciArchive } from "../../proving-ground/real-node/oci.ts";
import { missingForRealNode } from "../../proving-ground/real-node/preflight.ts";
import { valuesFileText } from "../../proving-ground/real-node/real-node.ts";
import { holdRealNodeLock } from "../helpers/real-node-lock.ts";

const goodMachine = { uid: 0, filesystems: "nodev\tproc\nnodev\toverlay\n", cgroupControllers: ["cpu", "cpuacct", "memory", "pids", "cpuset", "devices", "freezer"], linkExists: false };

describe("preflight", () => {
  it("accepts root with overlayfs and the cgroup controllers", () => {
    expect(missingForRealNode(goodMachine)).toEqual([]);
  });
  it("names each missing thing: not root, no overlayfs, a missing cgroup controller", () => {
    const missing = missingForRealNode({ ...goodMachine, uid: 1000, filesystems: "nodev\tproc\n", cgroupControllers: ["cpu"] });
    expect(missing).toHaveLength(3);
    expect(missing[0]).toMatch(/root.*uid 1000/);
    expect(missing[1]).toMatch(/overlayfs/);
    expect(missing[2]).toMatch(/cpuacct, memory, pids, cpuset, devices, freezer/);
  });
});

describe("iptables rules", () => {
  it("splits a saved rule with a quoted comment into the arguments iptables -D takes", () => {
    expect(splitRule('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')).toEqual([
      "-A", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES",
    ]);
  });
});

describe("host state comparison", () => {
  const state: HostState = { iptables: ["ipv4 nat :OUTPUT"], links: ["lo: <LOOPBACK>"], addresses: [], routes: ["default via 192.0.2.1"], mounts: ["/"], cgroups: ["cpu/user"], sysctls: { "net.ipv4.ip_forward": "0" }, paths: [] };
  it("is empty for the same state and lists each added, removed or changed item otherwise", () => {
    expect(diffHostState(state, structuredClone(state))).toEqual([]);
    const after = { ...structuredClone(state), iptables: ["ipv4 nat :OUTPUT", "ipv4 nat :KUBE-SERVICES"], cgroups: [], sysctls: { "net.ipv4.ip_forward": "1" } };
    expect(diffHostState(state, after)).toEqual(["iptables: + ipv4 nat :KUBE-SERVICES", "cgroups: - cpu/user", "sysctl net.ipv4.ip_forward: 0 → 1"]);
  });
});

describe("node configuration", () => {
  const layout = nodeLayout("/work/x/cluster");
  it("keeps containerd's root, state, socket and runc root in the node's folder, with the settings this machine needs", () => {
    const config = containerdConfig(layout, "korthweb.local/pause:1");
    for (const path of [layout.containerdRoot, layout.containerdState, layout.containerdSocket]) expect(config).toContain(JSON.stringify(path));
    expect(config).toContain("restrict_oom_score_adj = true");
    expect(config).toContain("SystemdCgroup = false");
    expect(config).toContain('sandbox_image = "korthweb.local/pause:1"');
    expect(config).toContain(`Root = ${JSON.stringify(join(layout.containerdState, "runc"))}`);
  });
  it("gives pods addresses from the pod range on the node's bridge, without masquerading", () => {
    const plugin = JSON.parse(cniConflist(layout)).plugins[0];
    expect(plugin).toMatchObject({ type: "bridge", bridge: addresses.bridge, ipMasq: false });
    expect(plugin.ipam.ranges[0][0].subnet).toBe(addresses.podCidr);
    expect(plugin.ipam.dataDir).toBe(layout.cniStateDir);
  });
  it("runs the kubelet on cgroup v1 with cgroupfs, on the node IP, with the cluster DNS", () => {
    const config = parse(kubeletConfig(layout));
    expect(config).toMatchObject({ failCgroupV1: false, cgroupDriver: "cgroupfs", address: addresses.nodeIp, clusterDNS: [addresses.dnsServiceIp], containerRuntimeEndpoint: `unix://${layout.containerdSocket}` });
  });
  it("tells kube-proxy to leave conntrack sysctls and route_localnet alone", () => {
    const config = parse(kubeProxyConfig("/k"));
    expect(config.conntrack).toEqual({ maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" });
    expect(config.iptables.localhostNodePorts).toBe(false);
    expect(config.nodePortAddresses).toEqual([`${addresses.nodeIp}/32`]);
  });
  it("uses only the documentation and benchmarking ranges, never 10/8, 172.16/12 or 192.168/16", () => {
    for (const value of Object.values(addresses)) expect(String(value)).not.toMatch(/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)/);
  });
  it("points the orthanc chart at the image built here, never pulled", () => {
    expect(parse(valuesFileText({ orthanc: "korthweb.local/orthanc:1.13-abc", postgresql: "korthweb.local/postgresql:15-def" }))).toEqual({
      image: { repository: "korthweb.local/orthanc", tag: "1.13-abc", digest: "", pullPolicy: "Never" },
      backup: { image: { repository: "korthweb.local/postgresql", tag: "15-def", digest: "" } },
    });
  });
});

describe("OCI image archive", () => {
  const dir = mkdtempSync(join(tmpdir(), "korthweb-oci-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it("holds an index naming the image, a manifest, its config and the root filesystem layer", async () => {
    writeFileSync(join(dir, "hello"), "hello\n");
    execFileSync("tar", ["-C", dir, "-cf", join(dir, "rootfs.tar"), "hello"]);
    await writeOciArchive(join(dir, "rootfs.tar"), { name: "korthweb.local/test:1", entrypoint: ["/hello"], user: "999:999" }, join(dir, "image.tar"));
    const out = join(dir, "out");
    execFileSync("mkdir", [out]);
    execFileSync("tar", ["-C", out, "-xf", join(dir, "image.tar")]);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
    expect(index.manifests[0].annotations["io.containerd.image.name"]).toBe("korthweb.local/test:1");
    const blob = (digest: string) => readFileSync(join(out, "blobs", "sha256", digest.replace("sha256:", "")));
    const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
    const config = JSON.parse(blob(manifest.config.digest).toString());
    expect(config.config).toMatchObject({ Entrypoint: ["/hello"], User: "999:999" });
    expect(config.rootfs.diff_ids).toEqual([manifest.layers[0].digest]);
    expect(blob(manifest.layers[0].digest).equals(readFileSync(join(dir, "rootfs.tar")))).toBe(true);
  });
});

describe("the real-node lock between test files", () => {
  const dir = mkdtempSync(join(tmpdir(), "korthweb-lock-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a second holder waits until the first releases, then gets it", async () => {
    const file = join(dir, "wait.lock");
    const first = await holdRealNodeLock(5_000, file);
    let secondHeld = false;
    const second = holdRealNodeLock(10_000, file).then((lock) => {
      secondHeld = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(secondHeld).toBe(false);
    first.release();
    const lock = await second;
    expect(lock.waitedSeconds).toBeGreaterThanOrEqual(0.6);
    lock.release();
  });

  it("gives up with the reason when the lock stays held", async () => {
    const file = join(dir, "timeout.lock");
    const first = await holdRealNodeLock(5_000, file);
    await expect(holdRealNodeLock(1_000, file)).rejects.toThrow(/not obtained within 1 s.*another test file keeps a real node running/);
    first.release();
  });
});
