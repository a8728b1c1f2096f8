// The parts of cert-manager on the real node that need no cluster: the --with
// option, the image specs (one binary, three entrypoints), the chart overrides,
// the chart's version stamp, the `cmctl renew` status patch, and cert-manager's
// own chart rendered with our values: every flag it passes our program is one
// our program takes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo } from "../../tasks/lib/go.ts";
import { fromRoot, repoRoot, toolsBinDir } from "../../tasks/lib/paths.ts";
import { TaskError } from "../../tasks/lib/errors.ts";
import {
  certManagerChartOverrides,
  certManagerComponents,
  certManagerImageSpecs,
  certManagerModuleDir,
  certManagerPin,
  certManagerSources,
  certManagerValuesFile,
  prepareCertManagerChart,
  renewalPatch,
} from "../../proving-ground/real-node/cert-manager.ts";
import { nodeExtras, parseExtras } from "../../proving-ground/real-node/extras.ts";
import { nodeBinaries } from "../../proving-ground/real-node/builds.ts";

const scratch = mkdtempSync(join(tmpdir(), "korthweb-cert-manager-parts-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("--with (the real node's extras)", () => {
  it("reads none, one, or a comma-separated list once each", () => {
    expect(parseExtras(undefined)).toEqual([]);
    expect(parseExtras("cert-manager").map((extra) => extra.name)).toEqual(["cert-manager"]);
    expect(parseExtras(" cert-manager , cert-manager ").map((extra) => extra.name)).toEqual(["cert-manager"]);
  });

  it("refuses an unknown or empty name as a usage error naming the flag and the known extras", () => {
    const refused = (raw: unknown) => {
      try {
        parseExtras(raw);
      } catch (error) {
        return error as TaskError;
      }
      throw new Error(`accepted ${String(raw)}`);
    };
    const unknown = refused("cert-manager,certmanager");
    expect(unknown).toBeInstanceOf(TaskError);
    expect(unknown.code).toBe("usage");
    expect(unknown.message).toBe('--with: unknown extra "certmanager"; known: cert-manager. Nothing was changed');
    expect(refused("").message).toMatch(/^--with needs a value: one or more of cert-manager/);
    expect(refused(true).message).toMatch(/^--with needs a value/);
  });

  it("without --real-node, cluster-up refuses --with before doing anything", async () => {
    const result = await run(process.execPath, [fromRoot("proving-ground", "cluster", "up.ts"), "--with", "cert-manager"], { cwd: repoRoot, allowFailure: true, silent: true, env: { KORTHWEB_WORK_DIR: join(scratch, "work"), NO_COLOR: "1" } });
    expect(result.exitCode).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/--with adds extras to the real node: give --real-node too/);
  });

  it("cert-manager is an extra, not a system component every real node builds", () => {
    expect(nodeExtras.map((extra) => extra.name)).toContain("cert-manager");
    expect(Object.keys(nodeBinaries().components)).not.toContain("certManager");
  });
});

describe("cert-manager's images and chart settings", () => {
  const specs = certManagerImageSpecs("/cache/cert-manager");

  it("three images over one binary, each starting its component as a non-root user, named stand-ins", () => {
    expect(specs.map((spec) => spec.name)).toEqual(certManagerComponents.map((component) => `cert-manager-${component}`));
    for (const [index, spec] of specs.entries()) {
      expect(spec.recipe).toEqual({ kind: "files", files: { "/usr/local/bin/cert-manager": "/cache/cert-manager" } });
      expect(spec.entrypoint).toEqual(["/usr/local/bin/cert-manager", certManagerComponents[index]]);
      expect(spec.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(spec.version).toBe(certManagerPin.version);
      expect(spec.standsInFor).toContain(`quay.io/jetstack/cert-manager-${certManagerComponents[index]}`);
    }
  });

  it("the chart runs our images, never pulls them, and skips the startupapicheck hook (no cmctl here)", () => {
    const overrides = certManagerChartOverrides({ controller: "korthweb.local/cert-manager-controller:v1-a", webhook: "korthweb.local/cert-manager-webhook:v1-b", cainjector: "korthweb.local/cert-manager-cainjector:v1-c" });
    expect(overrides).toEqual({
      image: { repository: "korthweb.local/cert-manager-controller", tag: "v1-a", pullPolicy: "Never" },
      webhook: { image: { repository: "korthweb.local/cert-manager-webhook", tag: "v1-b", pullPolicy: "Never" } },
      cainjector: { image: { repository: "korthweb.local/cert-manager-cainjector", tag: "v1-c", pullPolicy: "Never" } },
      startupapicheck: { enabled: false },
    });
  });

  it("the values file it installs with brings cert-manager's CRDs (the generated ones are removed for them)", () => {
    const values = parse(readFileSync(certManagerValuesFile, "utf8")) as { crds: { enabled: boolean } };
    expect(values.crds.enabled).toBe(true);
  });

  it("stamps the chart's unreleased version, and refuses a chart that carries another", () => {
    const module = join(scratch, "module");
    mkdirSync(join(module, "deploy", "charts", "cert-manager"), { recursive: true });
    writeFileSync(join(module, "deploy", "charts", "cert-manager", "Chart.yaml"), "apiVersion: v2\nname: cert-manager\nversion: v0.0.0\nappVersion: v0.0.0\n");
    const chart = prepareCertManagerChart(module, join(scratch, "out"), "v9.9.9");
    expect(parse(readFileSync(join(chart, "Chart.yaml"), "utf8"))).toEqual({ apiVersion: "v2", name: "cert-manager", version: "v9.9.9", appVersion: "v9.9.9" });
    writeFileSync(join(module, "deploy", "charts", "cert-manager", "Chart.yaml"), "apiVersion: v2\nname: cert-manager\nversion: v1.2.3\nappVersion: v1.2.3\n");
    expect(() => prepareCertManagerChart(module, join(scratch, "out"))).toThrow(/Chart\.yaml: expected the unreleased version v0\.0\.0/);
  });
});

describe("renewalPatch (what `cmctl renew` does)", () => {
  it("sets Issuing=True, reason ManuallyTriggered, at the Certificate's generation, keeping the other conditions", () => {
    const now = new Date("2026-12-07T10:11:12.345Z");
    const patch = renewalPatch({ metadata: { generation: 3 }, status: { conditions: [{ type: "Ready", status: "True" }, { type: "Issuing", status: "False" }] } }, now);
    expect(patch).toEqual([
      {
        op: "add",
        path: "/status/conditions",
        value: [
          { type: "Ready", status: "True" },
          { type: "Issuing", status: "True", reason: "ManuallyTriggered", message: "Certificate re-issuance manually triggered", observedGeneration: 3, lastTransitionTime: "2026-12-07T10:11:12Z" },
        ],
      },
    ]);
  });

  it("works on a Certificate with no status yet", () => {
    expect(renewalPatch({ metadata: {} })[0]!.value).toEqual([expect.objectContaining({ type: "Issuing", status: "True", observedGeneration: 1 })]);
  });
});

describe("cert-manager's own chart (from its module) with our values", async () => {
  const go = await requireGo("reading cert-manager's chart");
  const chart = prepareCertManagerChart(await certManagerModuleDir(go), join(scratch, "chart"));
  const overrides = join(scratch, "overrides.yaml");
  writeFileSync(overrides, stringify(certManagerChartOverrides({ controller: "korthweb.local/cert-manager-controller:t", webhook: "korthweb.local/cert-manager-webhook:t", cainjector: "korthweb.local/cert-manager-cainjector:t" })));
  const rendered = await run(join(toolsBinDir, "helm"), ["template", "cert-manager", chart, "--namespace", "cert-manager", "--values", certManagerValuesFile, "--values", overrides], { silent: true });
  const objects = parseAllDocuments(rendered.stdout).map((doc) => doc.toJS() as { kind: string; metadata: { name: string }; spec?: any }).filter(Boolean);
  const deployments = objects.filter((object) => object.kind === "Deployment");
  /** Flags our program registers (fs.XxxVar(&…, "name", …) in the Go sources), and the logging flags (-v, --vmodule, …). */
  const goFlags = (file: string) => [...readFileSync(join(certManagerSources, file), "utf8").matchAll(/fs\.\w+\(&?[^,]+, "([a-z0-9-]+)"/g)].map((match) => match[1]!);

  it("renders the three Deployments with our images, the CRDs, the webhook configurations and no startupapicheck Job", () => {
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(["cert-manager", "cert-manager-cainjector", "cert-manager-webhook"]);
    for (const deployment of deployments) {
      const container = deployment.spec.template.spec.containers[0];
      expect(container.image).toMatch(/^korthweb\.local\/cert-manager-(controller|webhook|cainjector):t$/);
      expect(container.imagePullPolicy).toBe("Never");
      expect(container.command).toBeUndefined(); // so each image's entrypoint picks the component
    }
    expect(objects.filter((object) => object.kind === "CustomResourceDefinition")).toHaveLength(6);
    expect(objects.some((object) => object.kind === "ValidatingWebhookConfiguration")).toBe(true);
    expect(objects.some((object) => object.kind === "Job")).toBe(false);
    expect(parse(readFileSync(join(chart, "Chart.yaml"), "utf8")).appVersion).toBe(certManagerPin.version);
  });

  it("every flag the chart passes the controller and the cainjector is one our program takes", () => {
    const byName = (name: string) => deployments.find((deployment) => deployment.metadata.name === name)!.spec.template.spec.containers[0].args as string[];
    const flagsOf = (args: string[]) => args.map((arg) => /^--([a-z0-9-]+)/.exec(arg)![1]!);
    const logging = ["v", "vmodule", "logging-format"];
    const controller = flagsOf(byName("cert-manager"));
    expect(controller).toContain("cluster-resource-namespace");
    for (const flag of controller) expect([...goFlags("controller.go"), ...logging], flag).toContain(flag);
    for (const flag of flagsOf(byName("cert-manager-cainjector"))) expect([...goFlags("cainjector.go"), ...logging], flag).toContain(flag);
  });
});
