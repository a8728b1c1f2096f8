// The task runner: strict flags, --help, and --dry-run that prints the plan and
// manifests without running kubectl or helm against a cluster.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TaskError } from "../../tasks/lib/errors.ts";
import { helpText, parseTaskArgs, runTasks, type Task } from "../../tasks/lib/task.ts";
import { startFakeApiServer, writeKubeconfig, type FakeApiServer } from "../helpers/fake-apiserver.ts";
import { useCapturedLog } from "../helpers/log.ts";

const applyTask: Task = {
  id: "demo/01-namespace",
  title: "Create the namespace",
  summary: "Creates the demo namespace.",
  flags: { purge: { type: "boolean", description: "also delete data" } },
  run: async (ctx) => {
    await ctx.kube.apply([{ apiVersion: "v1", kind: "Namespace", metadata: { name: ctx.settings.namespaces.orthanc } }], "namespace");
    await ctx.helm.upgradeInstall({ release: "r", namespace: "n", chart: "oci://example.org/charts/x", version: "1.2.3" });
  },
};
const waitTask: Task = {
  id: "demo/02-wait",
  title: "Wait for it",
  summary: "Waits.",
  run: async (ctx) => {
    const { waitForRollout } = await import("../../tasks/lib/kube-wait.ts");
    await waitForRollout(ctx.kube, "Deployment", "orthanc", "orthanc", 5);
  },
};

const lines = useCapturedLog();

describe("task runner", () => {
  afterEach(() => {
    delete process.env.KORTHWEB_KUBECTL;
    delete process.env.KORTHWEB_HELM;
  });

  it("rejects unknown flags and missing values naming the flag (exit 2)", async () => {
    expect(() => parseTaskArgs(["--bogus"], [applyTask])).toThrow(/Unknown option '--bogus'/);
    expect(await runTasks("demo", [applyTask], ["--domain"])).toBe(2);
    expect(lines.join("\n")).toContain("--domain");
    expect(await runTasks("demo", [applyTask], ["--domain", "NOT VALID"])).toBe(2);
    expect(lines.join("\n")).toContain('invalid --domain "NOT VALID"');
  });

  it("lists every step, common and task flags in --help", () => {
    const text = helpText("demo-install", [applyTask, waitTask]);
    expect(text).toContain("1. Create the namespace  [tasks/demo/01-namespace.ts]");
    expect(text).toContain("2. Wait for it");
    for (const flag of ["--help", "--dry-run", "--domain VALUE", "--context VALUE", "--purge"]) expect(text).toContain(flag);
  });

  it("prints the ordered plan and the manifests in --dry-run, touching no cluster", async () => {
    // Point kubectl and helm at nothing: any real call would fail the run.
    process.env.KORTHWEB_KUBECTL = "/nonexistent/kubectl";
    process.env.KORTHWEB_HELM = "/nonexistent/helm";
    const code = await runTasks("demo", [applyTask, waitTask], ["--dry-run", "--namespace", "pacs"]);
    const output = lines.join("\n");
    expect(code, output).toBe(0);
    expect(output).toMatch(/Plan \(dry run[^]*1\. Create the namespace[^]*2\. Wait for it/);
    expect(output).toContain("would apply (server-side) namespace: Namespace pacs");
    expect(output).toContain("kind: Namespace");
    expect(output).toContain("would run: helm upgrade --install r oci://example.org/charts/x --version 1.2.3");
    expect(output).toContain("would wait for Deployment orthanc/orthanc to roll out");
  });
});

describe("task runner guards: bad input and unready clusters stop before any task runs", () => {
  const savedKubeconfig = process.env.KUBECONFIG;
  let server: FakeApiServer;
  beforeAll(async () => {
    server = await startFakeApiServer({ version: "v1.34.2", crds: ["gateways.networking.istio.io"] });
  });
  afterAll(async () => {
    process.env.KUBECONFIG = savedKubeconfig;
    await server.close();
  });

  const recorder = () => {
    const ran: string[] = [];
    const task = (id: string, extra: Partial<Task> = {}): Task => ({ id, title: id, summary: id, cluster: true, run: async () => void ran.push(id), ...extra });
    return { ran, task };
  };

  it("checks the cluster once before the first task: no context → exit 4, unreachable → 5, too old → 6", async () => {
    const { ran, task } = recorder();
    process.env.KUBECONFIG = writeKubeconfig(server.url, null);
    expect(await runTasks("t", [task("a")], [])).toBe(4);
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1");
    expect(await runTasks("t", [task("a")], [])).toBe(5);
    const old = await startFakeApiServer({ version: "v1.31.0", crds: [] });
    process.env.KUBECONFIG = writeKubeconfig(old.url);
    expect(await runTasks("t", [task("a")], [])).toBe(6);
    await old.close();
    expect(ran).toEqual([]);
    process.env.KUBECONFIG = writeKubeconfig(server.url);
    expect(await runTasks("t", [task("a")], [])).toBe(0);
    expect(lines.join("\n")).toContain("cluster: context fake, Kubernetes v1.34.2");
    expect(ran).toEqual(["a"]);
  });

  it("validates every task's input before running the first one", async () => {
    const { ran, task } = recorder();
    process.env.KUBECONFIG = writeKubeconfig(server.url);
    const bad = task("b", {
      validate: async () => {
        throw new TaskError("values.yaml: replicaCount must be an integer", { code: "invalidValues" });
      },
    });
    expect(await runTasks("t", [task("a"), bad], [])).toBe(10);
    expect(ran).toEqual([]);
    expect(lines.join("\n")).toContain("replicaCount must be an integer");
  });

  it("checks a task's CRDs right before it runs, after the steps before it", async () => {
    const { ran, task } = recorder();
    process.env.KUBECONFIG = writeKubeconfig(server.url);
    const needs = (names: string[]) => () => ({ names, hint: "run step 3, which installs them" });
    const code = await runTasks("t", [task("a", { crds: needs(["gateways.networking.istio.io"]) }), task("b", { crds: needs(["ingressroutes.traefik.io"]) }), task("c")], []);
    expect(code).toBe(7);
    expect(ran).toEqual(["a"]);
    expect(lines.join("\n")).toContain("missing CustomResourceDefinitions: ingressroutes.traefik.io");
  });

  it("does none of these checks in --dry-run", async () => {
    const { ran, task } = recorder();
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1");
    expect(await runTasks("t", [task("a", { crds: () => ({ names: ["x.example.com"], hint: "" }) })], ["--dry-run"])).toBe(0);
    expect(ran).toEqual(["a"]);
  });
});
