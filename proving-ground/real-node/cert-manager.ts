// cert-manager for real on the real node (`make cluster-up ARGS="--real-node
// --with cert-manager"`): its controller, webhook and CA injector built from
// the Go module proxy, installed by helm from cert-manager's own chart with
// the values file the manual approach gives the upstream chart.
//
// What is upstream and what stands in:
// - the code that issues certificates, validates them in the webhook and injects
//   CA bundles is cert-manager's, from github.com/cert-manager/cert-manager at
//   pins.realNode.certManager (one patch behind pins.certManagerChart: the proxy
//   does not serve v1.21.3);
// - the programs around it are ours (cert-manager/*.go, a STAND-IN for the images
//   quay.io/jetstack/cert-manager-{controller,webhook,cainjector}): the proxy does
//   not serve the modules holding cert-manager's cmd/ folders. One binary serves
//   the three components; three image names share its one layer (containerd
//   stores it once), because the chart gives each Deployment an image, not a command;
// - the chart is cert-manager's own source (deploy/charts/cert-manager in the same
//   module), not the published OCI artifact (which cannot be fetched here): its
//   Chart.yaml carries v0.0.0 until the release tool stamps it, which we do;
// - the startupapicheck hook Job is off (its cmctl image cannot be built: the
//   proxy does not serve cmctl); installCertManager does its job instead: a
//   server-side dry run of a Certificate, repeated until the webhook accepts it.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo, type GoToolchain } from "../../tasks/lib/go.ts";
import { log, progress } from "../../tasks/lib/log.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { waitUntil } from "../../tasks/lib/wait.ts";
import { chmodAll, stampOf } from "./builds.ts";
import type { ExtraContext, NodeExtra } from "./extra.ts";
import { buildImage, imageByName, type BuiltImage, type ImageSpec } from "./images.ts";
import { nodeCache } from "./layout.ts";

export const certManagerPin = pins.realNode.certManager;
export const certManagerComponents = ["controller", "webhook", "cainjector"] as const;
export type CertManagerComponent = (typeof certManagerComponents)[number];

/** Our main program's sources (Go), copied into the module's copy at build time. */
export const certManagerSources = join(import.meta.dirname, "cert-manager");
/** The values file the manual approach gives cert-manager's chart (step 3). */
export const certManagerValuesFile = fromRoot("manual", "03-cert-manager", "cert-manager.values.yaml");
/** The namespace object of the manual approach's step 3 (Pod Security "restricted" enforced). */
export const certManagerNamespaceFile = fromRoot("manual", "03-cert-manager", "namespace.yaml");
export const certManagerNamespace = "cert-manager";
export const certManagerRelease = "cert-manager";

const sourceFiles = () => readdirSync(certManagerSources).filter((file) => file.endsWith(".go")).sort();

/** Stamps the version into the binaries as cert-manager's own build does (pkg/util.AppVersion). */
export const certManagerLdflags = (version = certManagerPin.version) => `-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=${version}`;

export function certManagerBinary(cache = nodeCache()): string {
  return join(cache.modules, `certManager-${certManagerPin.version}`, "bin", "cert-manager");
}

/** The module's folder in Go's module cache (downloaded when missing). */
export async function certManagerModuleDir({ go, env }: GoToolchain): Promise<string> {
  const { stdout } = await run(go, ["mod", "download", "-json", `${certManagerPin.module}@${certManagerPin.version}`], { env, silent: true, cwd: "/" });
  return (JSON.parse(stdout) as { Dir: string }).Dir;
}

/** Builds (unless the stamp says it is current) our program inside a writable copy of the module. Returns seconds spent (0: cached). */
export async function buildCertManager(toolchain: GoToolchain, output = certManagerBinary()): Promise<number> {
  const dir = join(output, "..", "..");
  const stampFile = join(dir, "bin", ".stamp");
  const stamp = stampOf(certManagerPin.module, certManagerPin.version, certManagerPin.package, certManagerLdflags(), ...sourceFiles().map((file) => readFileSync(join(certManagerSources, file), "utf8")));
  if (existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === stamp) {
    log.ok(`cert-manager ${certManagerPin.version}: cached in ${join(dir, "bin")}`);
    return 0;
  }
  const started = Date.now();
  const line = progress(`building cert-manager's controller, webhook and cainjector from ${certManagerPin.module}@${certManagerPin.version} (first time: 10–30 min on 2 busy cores)`);
  // Per process: two builds (two worktrees) never share a half-copied folder.
  const source = join(dir, `src-${process.pid}`);
  try {
    rmSync(source, { recursive: true, force: true });
    cpSync(await certManagerModuleDir(toolchain), source, { recursive: true });
    chmodAll(source);
    const program = join(source, certManagerPin.package);
    mkdirSync(program, { recursive: true });
    for (const file of sourceFiles()) cpSync(join(certManagerSources, file), join(program, file));
    mkdirSync(join(dir, "bin"), { recursive: true });
    await run(toolchain.go, ["build", "-trimpath", `-ldflags=${certManagerLdflags()}`, "-o", output, certManagerPin.package], { cwd: source, env: toolchain.env, silent: true, timeoutMs: 3_600_000 });
  } catch (error) {
    line.fail("building cert-manager failed");
    throw error;
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
  writeFileSync(stampFile, `${stamp}\n`);
  line.done(`cert-manager ${certManagerPin.version} built into ${join(dir, "bin")}`);
  return (Date.now() - started) / 1000;
}

/** Three image names over one binary (same layer), each starting its component. */
export function certManagerImageSpecs(binary: string): ImageSpec[] {
  return certManagerComponents.map((component) => ({
    name: `cert-manager-${component}`,
    version: certManagerPin.version,
    recipe: { kind: "files", files: { "/usr/local/bin/cert-manager": binary } },
    entrypoint: ["/usr/local/bin/cert-manager", component],
    user: "65532:65532",
    standsInFor: `quay.io/jetstack/cert-manager-${component} (cert-manager ${certManagerPin.version}'s code from its Go module, in korthweb's own main program)`,
  }));
}

const imageRef = (image: string) => ({ repository: image.slice(0, image.lastIndexOf(":")), tag: image.slice(image.lastIndexOf(":") + 1), pullPolicy: "Never" });

/** What we set on top of the values file: our images, and the startupapicheck hook off (see the opening comment). */
export function certManagerChartOverrides(images: Record<CertManagerComponent, string>): Record<string, unknown> {
  return {
    image: imageRef(images.controller),
    webhook: { image: imageRef(images.webhook) },
    cainjector: { image: imageRef(images.cainjector) },
    startupapicheck: { enabled: false },
  };
}

/** Copies the chart out of the module and stamps its version, as cert-manager's release tool does. */
export function prepareCertManagerChart(moduleDir: string, destination: string, version: string = certManagerPin.version): string {
  const chart = join(destination, "cert-manager");
  rmSync(chart, { recursive: true, force: true });
  cpSync(join(moduleDir, "deploy", "charts", "cert-manager"), chart, { recursive: true });
  chmodAll(chart);
  const chartYaml = join(chart, "Chart.yaml");
  const text = readFileSync(chartYaml, "utf8");
  if (!/^version: v0\.0\.0$/m.test(text) || !/^appVersion: v0\.0\.0$/m.test(text)) throw new Error(`${chartYaml}: expected the unreleased version v0.0.0 and appVersion v0.0.0 to stamp`);
  writeFileSync(chartYaml, text.replace(/^version: v0\.0\.0$/m, `version: ${version}`).replace(/^appVersion: v0\.0\.0$/m, `appVersion: ${version}`));
  return chart;
}

/** A Certificate that only the webhook can judge: a dry run of it succeeds once the webhook serves with its CA injected. */
export const probeCertificate = (namespace: string, name = "korthweb-webhook-probe") => ({
  apiVersion: "cert-manager.io/v1",
  kind: "Certificate",
  metadata: { name, namespace },
  spec: { secretName: name, dnsNames: ["probe.invalid"], issuerRef: { name: "korthweb-probe", kind: "Issuer" } },
});

export async function installCertManager(ctx: ExtraContext, images: readonly BuiltImage[]): Promise<void> {
  const toolchain = await requireGo("reading cert-manager's chart from its module");
  const chart = prepareCertManagerChart(await certManagerModuleDir(toolchain), ctx.dir);
  const overrides = join(ctx.dir, "cert-manager.overrides.yaml");
  const byComponent = Object.fromEntries(certManagerComponents.map((component) => [component, imageByName(images, `cert-manager-${component}`)])) as Record<CertManagerComponent, string>;
  writeFileSync(overrides, `# Written by proving-ground/real-node/cert-manager.ts: the stand-in images built here.\n${stringify(certManagerChartOverrides(byComponent))}`);
  await ctx.kubectl(["apply", "--server-side", "--field-manager=korthweb", "-f", certManagerNamespaceFile]);
  // cluster-up installed CRDs generated from kubernetes-models for validation; cert-manager's chart brings its own
  // (crds.enabled in the values file) and helm adopts none it did not make: the generated ones go first.
  const crds = (await ctx.kubectl(["get", "crd", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.app\\.kubernetes\\.io/managed-by}{\"\\n\"}{end}"]))
    .split("\n")
    .map((line) => line.split("="))
    .filter(([name, manager]) => name?.endsWith(".cert-manager.io") && manager !== "Helm")
    .map(([name]) => name!);
  if (crds.length) await ctx.kubectl(["delete", "crd", ...crds, "--wait=true"]);
  await ctx.helm(["upgrade", "--install", certManagerRelease, chart, "--namespace", certManagerNamespace, "--values", certManagerValuesFile, "--values", overrides, "--wait", "--timeout", "5m"]);
  const probe = probeCertificate(certManagerNamespace);
  await waitUntil({
    what: "cert-manager's webhook to accept a Certificate (CA bundle injected by the cainjector)",
    timeoutMs: 180_000,
    hint: `kubectl -n ${certManagerNamespace} logs deploy/cert-manager-webhook; kubectl -n ${certManagerNamespace} logs deploy/cert-manager-cainjector`,
    check: async () => {
      try {
        await ctx.kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(probe));
        return { done: true, status: "accepted" };
      } catch (error) {
        return { done: false, status: String(error instanceof Error ? error.message : error).split("\n").slice(-1)[0] ?? "refused" };
      }
    },
  });
}

export const certManagerExtra: NodeExtra = {
  name: "cert-manager",
  summary: `cert-manager ${certManagerPin.version} (controller, webhook, cainjector built from its Go module; its own chart with manual/03-cert-manager/cert-manager.values.yaml)`,
  build: async () => {
    const toolchain = await requireGo("building cert-manager");
    const seconds = await buildCertManager(toolchain);
    const images: BuiltImage[] = [];
    for (const spec of certManagerImageSpecs(certManagerBinary())) images.push(await buildImage(spec));
    return { images, seconds: seconds + images.reduce((sum, image) => sum + image.seconds, 0) };
  },
  install: installCertManager,
};


/**
 * What `cmctl renew` does to a Certificate, as a JSON patch of its status subresource: the condition Issuing=True
 * with reason ManuallyTriggered (cmctl is not served by the Go module proxy, so the tests make the same change).
 * The controller then issues the certificate again; the key follows spec.privateKey.rotationPolicy.
 */
export function renewalPatch<C extends { type: string }>(certificate: { metadata: { generation?: number }; status?: { conditions?: readonly C[] } }, now = new Date()): { op: "add"; path: string; value: object[] }[] {
  const kept = (certificate.status?.conditions ?? []).filter((condition) => condition.type !== "Issuing");
  const issuing = {
    type: "Issuing",
    status: "True",
    reason: "ManuallyTriggered",
    message: "Certificate re-issuance manually triggered",
    observedGeneration: certificate.metadata.generation ?? 1,
    lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
  return [{ op: "add", path: "/status/conditions", value: [...kept, issuing] }];
}
