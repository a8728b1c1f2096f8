// docs/manual.md matches the code: every file under manual/ and every step
// task is described, and every path the page names exists.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import { parseManifests } from "../../tasks/lib/manifests.ts";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { installSteps } from "../../tasks/manual/install.ts";
import { manualDir } from "../../tasks/manual/layout.ts";

const doc = readFileSync(fromRoot("docs", "manual.md"), "utf8");
const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

describe("docs/manual.md", () => {
  it("describes every step task and every file under manual/ (by its name)", () => {
    for (const step of installSteps) expect(doc, step.id).toContain(`tasks/${step.id}.ts`);
    for (const file of walk(manualDir)) {
      const name = relative(manualDir, file).split("/").pop()!;
      expect(doc, relative(repoRoot, file)).toContain(name);
    }
  });

  it("names only paths that exist", () => {
    const paths = new Set(doc.match(/(?<![\w/])(?:manual|tasks\/manual|test\/manual|helm|docs)\/[\w./-]+\.(?:ya?ml|ts|md)\b/g) ?? []);
    expect(paths.size).toBeGreaterThan(15);
    expect([...paths].filter((path) => !existsSync(fromRoot(path)))).toEqual([]);
  });

  it("its recipe for the chart's check Pod renders one Pod that verifies through the gateway with the CA copied into a ConfigMap", async () => {
    const flags = ["--set tests.enabled=true --set tests.caConfigMap=orthanc-gateway-ca", "--show-only templates/tests/check.yaml"];
    for (const flag of flags) expect(doc).toContain(flag);
    expect(doc).toContain("kubectl -n orthanc create configmap orthanc-gateway-ca --from-file=ca.crt");
    const args = ["template", "orthanc", "helm/orthanc", "-n", "orthanc", "-f", "manual/05-orthanc/orthanc.values.yaml", ...flags.join(" ").split(" ")];
    const { stdout } = await run(requireToolPath("helm"), args, { silent: true });
    const objects = parseManifests(stdout, "check Pod").map((item) => item.object) as any[];
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(["Pod orthanc/orthanc-test"]);
    const [pod] = objects;
    expect(pod.spec.containers[0].args).toEqual(expect.arrayContaining(["--address=istio-ingress.istio-ingress.svc.cluster.local", "--ca=/opt/korthweb-ca/ca.crt"]));
    expect(pod.spec.volumes.find((v: any) => v.name === "ca").configMap.name).toBe("orthanc-gateway-ca");
  });

  it("lists the make targets the Makefile has", () => {
    const makefile = readFileSync(fromRoot("Makefile"), "utf8");
    for (const target of ["manual-install", "manual-uninstall", "manual-render", "manual-grafana", "manual-kiali"]) {
      expect(makefile).toMatch(new RegExp(`^${target}:`, "m"));
      expect(doc).toContain(`make ${target}`);
    }
  });
});
