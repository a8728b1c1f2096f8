// Preflight against the real kubectl and a fake API server: each failure class
// gets its own exit code and a message that says what to do.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Kube } from "../../tasks/lib/kube.ts";
import { preflight } from "../../tasks/lib/preflight.ts";
import { useCapturedLog } from "../helpers/log.ts";
import { startFakeApiServer, writeKubeconfig, type FakeApiServer } from "../helpers/fake-apiserver.ts";

const kube = (context?: string) => new Kube({ context, dryRun: false });
const savedKubeconfig = process.env.KUBECONFIG;

describe("preflight", () => {
  let current: FakeApiServer;
  let old: FakeApiServer;
  const lines = useCapturedLog();

  beforeAll(async () => {
    current = await startFakeApiServer({ version: "v1.34.1", crds: ["ingressroutes.traefik.io", "tlsoptions.traefik.io"] });
    old = await startFakeApiServer({ version: "v1.30.4", crds: [] });
  });
  afterAll(async () => {
    await current.close();
    await old.close();
  });
  afterEach(() => {
    process.env.KUBECONFIG = savedKubeconfig;
    delete process.env.KORTHWEB_HELM;
  });

  it("passes with tools, a context, a recent server and the CRDs", async () => {
    process.env.KUBECONFIG = writeKubeconfig(current.url);
    const report = await preflight(kube(), { crds: ["ingressroutes.traefik.io"] });
    expect(report).toMatchObject({ context: "fake", serverVersion: "v1.34.1" });
    expect(report.tools.helm).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it("fails with exit 4 when no context is selected", async () => {
    process.env.KUBECONFIG = writeKubeconfig(current.url, null);
    await expect(preflight(kube())).rejects.toMatchObject({ exitCode: 4, message: "no kube context is selected", hint: expect.stringContaining("use-context") });
  });

  it("fails with exit 4 when the named context does not exist", async () => {
    process.env.KUBECONFIG = writeKubeconfig(current.url);
    await expect(preflight(kube("prod"))).rejects.toMatchObject({ exitCode: 4, message: expect.stringContaining(`"prod" does not exist`) });
  });

  it("fails with exit 5 when the API server does not answer", async () => {
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1");
    await expect(preflight(kube())).rejects.toMatchObject({ exitCode: 5, message: expect.stringContaining("does not answer") });
  });

  it("fails with exit 6 on a Kubernetes older than 1.33", async () => {
    process.env.KUBECONFIG = writeKubeconfig(old.url);
    await expect(preflight(kube())).rejects.toMatchObject({ exitCode: 6, message: expect.stringContaining("v1.30.4; korthweb needs 1.33") });
  });

  it("fails with exit 7 naming the missing CRDs and who installs them", async () => {
    process.env.KUBECONFIG = writeKubeconfig(current.url);
    const needs = { crds: ["ingressroutes.traefik.io", "certificates.cert-manager.io"], crdHint: "run tasks/manual/03-cert-manager.ts" };
    await expect(preflight(kube(), needs)).rejects.toMatchObject({
      exitCode: 7,
      message: "missing CustomResourceDefinitions: certificates.cert-manager.io",
      hint: "run tasks/manual/03-cert-manager.ts",
    });
  });

  it("fails with exit 3 when a tool is missing, before touching the cluster", async () => {
    process.env.KORTHWEB_HELM = "/nonexistent/helm";
    await expect(preflight(kube())).rejects.toMatchObject({ exitCode: 3, message: expect.stringContaining("helm not found") });
  });

  it("checks no cluster in dry-run mode", async () => {
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1");
    const report = await preflight(new Kube({ context: undefined, dryRun: true }), { crds: ["x.example.com"] });
    expect(report.context).toBeUndefined();
    expect(lines.some((line) => line.includes("[dry-run] would check"))).toBe(true);
  });
});
