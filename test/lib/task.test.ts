// The task runner: strict flags, --help, and --dry-run that prints the plan and
// manifests without running kubectl or helm against a cluster.
import { afterEach, describe, expect, it } from "vitest";
import { helpText, parseTaskArgs, runTasks, type Task } from "../../tasks/lib/task.ts";
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

describe("task runner", () => {
  const lines = useCapturedLog();
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
