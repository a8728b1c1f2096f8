// istioctl over the manual approach, offline: `istioctl analyze` (all
// namespaces: without -A it looks at one and misses errors) passes on the
// committed YAML and fails on a broken copy; `istioctl manifest generate`
// accepts the IstioOperator and the Istio chart values, and refuses an
// unknown key. istioctl comes from `make setup-go-tools` (a 1.31 build: it
// analyses files, it does not install).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { findTool } from "../../tasks/lib/tools.ts";
import { files } from "../../tasks/manual/layout.ts";
import { manifestFiles, values } from "./manual-files.ts";
import { scratchDir } from "../helpers/scratch.ts";

const istioctl = () => {
  const path = findTool("istioctl");
  if (!path) throw new Error("istioctl not found: run `make setup-go-tools` (builds the pinned istioctl into .tools/bin)");
  return path;
};
const scratch = () => scratchDir("korthweb-istioctl-");
const analyze = (paths: readonly string[]) => run(istioctl(), ["analyze", "--use-kube=false", "-A", ...paths], { silent: true, allowFailure: true, timeoutMs: 120_000 });
const generate = (path: string) => run(istioctl(), ["manifest", "generate", "-f", path], { silent: true, allowFailure: true, timeoutMs: 120_000 });

describe("istioctl analyze --use-kube=false -A", () => {
  it("finds no issue in the manual YAML", async () => {
    const result = await analyze(manifestFiles);
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr + result.stdout).toMatch(/No validation issues found/);
  });

  it("fails on a broken copy: a VirtualService attached to a Gateway that does not exist, a TLS server on a TCP port", async () => {
    const dir = scratch();
    const brokenRef = join(dir, "routing.yaml");
    writeFileSync(brokenRef, readFileSync(files.routing, "utf8").replaceAll("- istio-ingress/orthanc", "- istio-ingress/orthanc-gw"));
    const refs = await analyze([...manifestFiles.filter((p) => p !== files.routing), brokenRef]);
    expect(refs.exitCode).not.toBe(0);
    expect(refs.stdout + refs.stderr).toMatch(/IST0101.*Referenced gateway not found: "istio-ingress\/orthanc-gw"/);
    const brokenTls = join(dir, "routing-tcp.yaml");
    writeFileSync(brokenTls, readFileSync(files.routing, "utf8").replace("protocol: TLS", "protocol: TCP"));
    const tls = await analyze([files.orthanc, brokenTls]);
    expect(tls.exitCode).not.toBe(0);
    expect(tls.stdout + tls.stderr).toMatch(/server cannot have TLS settings for non HTTPS\/TLS ports/);
  });
});

describe("istioctl manifest generate (values and IstioOperator are what Istio understands)", () => {
  const istiod = values(files.istiodValues);
  const cni = values(files.cniValues);
  const operator = values(files.istioOperator);

  it("the IstioOperator configures the same control plane as the chart values (so both installers agree)", () => {
    expect(operator.spec.values.pilot).toEqual(istiod.pilot);
    expect(operator.spec.meshConfig).toEqual(istiod.meshConfig);
    expect(operator.spec.values.cni).toEqual(cni.cni);
    expect(operator.spec.components.cni.enabled).toBe(true);
    expect(operator.spec.components.ingressGateways).toEqual([{ name: "istio-ingressgateway", enabled: false }]);
  });

  it("accepts manual/02-istio/istio-operator.yaml, renders the CNI DaemonSet and istiod", async () => {
    const result = await generate(files.istioOperator);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/kind: DaemonSet[\s\S]*name: istio-cni-node|name: istio-cni-node[\s\S]*kind: DaemonSet/);
    expect(result.stdout).toMatch(/name: istiod\b/);
  });

  it("accepts istiod.values.yaml and cni.values.yaml as Istio values, and refuses a misspelt key", async () => {
    const dir = scratch();
    const fromValues = (cniValues: unknown) => ({
      apiVersion: "install.istio.io/v1alpha1",
      kind: "IstioOperator",
      spec: { components: { cni: { enabled: true } }, meshConfig: istiod.meshConfig, values: { pilot: istiod.pilot, cni: cniValues } },
    });
    const good = join(dir, "good.yaml");
    writeFileSync(good, stringify(fromValues(cni.cni)));
    const ok = await generate(good);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, stringify(fromValues({ ...cni.cni, excludeNamespace: ["kube-system"] })));
    const refused = await generate(bad);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "excludeNamespace"/);
  });
});
