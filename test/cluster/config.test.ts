// Where the simulated cluster keeps things and how kwokctl is told to run it:
// caches outside the repository, state in the work folder, our binaries,
// 127.0.0.1 only; and cluster-up/-down's flags and dry runs.
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { clusterState } from "../../proving-ground/cluster/cluster.ts";
import { kwokctlConfig } from "../../proving-ground/cluster/kwok-config.ts";
import { binaries, cacheRoot, clusterLayout, contextName } from "../../proving-ground/cluster/layout.ts";
import { parseNodes, task as upTask } from "../../proving-ground/cluster/up.ts";
import { task as downTask } from "../../proving-ground/cluster/down.ts";
import { ExitCode } from "../../tasks/lib/errors.ts";
import { workDir } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { useCapturedLog } from "../helpers/log.ts";

const lines = useCapturedLog();

describe("layout", () => {
  it("caches outside the repository: KORTHWEB_CACHE_DIR, else $XDG_CACHE_HOME/korthweb, else ~/.cache/korthweb", () => {
    expect(cacheRoot({ KORTHWEB_CACHE_DIR: "/x/cache", XDG_CACHE_HOME: "/y" })).toBe("/x/cache");
    expect(cacheRoot({ XDG_CACHE_HOME: "/y" })).toBe("/y/korthweb");
    expect(cacheRoot({})).toBe(join(homedir(), ".cache", "korthweb"));
    const bins = binaries("/c");
    expect(bins.kubeApiserver).toBe(`/c/control-plane/${pins.cluster.kubernetes}/bin/kube-apiserver`);
    expect(bins.etcd).toBe(`/c/etcd/${pins.cluster.etcd}/bin/etcd`);
  });

  it("keeps the running cluster in the work folder, with its own kubeconfig (never ~/.kube/config)", () => {
    const layout = clusterLayout();
    expect(layout.dir).toBe(join(workDir, "cluster"));
    expect(layout.kubeconfig).toBe(join(workDir, "cluster", "kubeconfig"));
    expect(layout.kwokWorkDir.startsWith(layout.dir)).toBe(true);
    expect(contextName(layout)).toBe("kwok-korthweb");
  });
});

describe("kwokctl configuration", () => {
  const layout = clusterLayout("/w/cluster", "t");
  const bins = binaries("/c");
  const config = parse(kwokctlConfig(layout, bins)) as { kind: string; options: Record<string, unknown> };

  it("runs our binaries as local processes, on 127.0.0.1, at the pinned versions", () => {
    expect(config.kind).toBe("KwokctlConfiguration");
    expect(config.options).toMatchObject({
      runtime: "binary",
      bindAddress: "127.0.0.1",
      kubeVersion: pins.cluster.kubernetes,
      etcdVersion: pins.cluster.etcd.replace(/^v/, ""),
      kubeApiserverBinary: bins.kubeApiserver,
      kubeControllerManagerBinary: bins.kubeControllerManager,
      kubeSchedulerBinary: bins.kubeScheduler,
      kwokControllerBinary: bins.kwok,
      etcdBinary: bins.etcd,
      kubectlBinary: bins.kubectl,
      kubeAdmission: true,
      kubeAuthorization: true,
    });
    expect(config.options.cacheDir).toBe("/w/cluster/kwok/cache");
  });

  it("says a cluster that was never created is absent", () => {
    expect(clusterState(layout, bins)).toBe("absent");
  });
});

describe("cluster-up and cluster-down", () => {
  it("take --nodes from 1 to 100", () => {
    expect(parseNodes(undefined)).toBe(3);
    expect(parseNodes("5")).toBe(5);
    for (const bad of ["0", "101", "2.5", "many"]) expect(() => parseNodes(bad), bad).toThrow(/--nodes/);
  });

  it("refuse a bad --nodes with the usage exit code", async () => {
    expect(await runTasks("cluster-up", [upTask], ["--nodes", "0"])).toBe(ExitCode.usage);
    expect(lines.join("\n")).toContain('invalid --nodes "0"');
  });

  it("only describe what they would do in --dry-run", async () => {
    expect(await runTasks("cluster-up", [upTask], ["--dry-run", "--nodes", "2"])).toBe(0);
    expect(await runTasks("cluster-down", [downTask], ["--dry-run"])).toBe(0);
    const text = lines.join("\n");
    expect(text).toContain("would build the binaries if needed, start cluster korthweb with 2 nodes");
    expect(text).toContain("would delete cluster korthweb");
  });
});
