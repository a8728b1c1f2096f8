// The generated wrapper modules: staging replaces read from Kubernetes' own
// go.mod, published at v0.X.Y, and the version stamp the binaries carry.
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import { requireGo } from "../../tasks/lib/go.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { controlPlaneGoMod, etcdGoMod, stagingModules, stagingVersion, versionLdflags } from "../../proving-ground/cluster/wrapper-modules.ts";

// The shape of k8s.io/kubernetes' go.mod: a replace block pointing staging modules at local folders.
const kubernetesGoMod = `module k8s.io/kubernetes

go 1.25.0

require (
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
	sigs.k8s.io/yaml v1.6.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/apimachinery => ./staging/src/k8s.io/apimachinery
)

replace k8s.io/kms => ./staging/src/k8s.io/kms
replace github.com/some/fork => github.com/other/fork v1.0.0
`;

describe("control-plane wrapper module", () => {
  it("finds every staging module, in blocks and single replace lines, and nothing else", () => {
    expect(stagingModules(kubernetesGoMod)).toEqual(["k8s.io/api", "k8s.io/apimachinery", "k8s.io/client-go", "k8s.io/kms"]);
  });

  it("requires k8s.io/kubernetes at the pin and replaces each staging module with its v0 release", () => {
    const goMod = controlPlaneGoMod("v1.35.4", kubernetesGoMod);
    expect(goMod).toContain("require k8s.io/kubernetes v1.35.4");
    expect(goMod).toContain("\tk8s.io/client-go => k8s.io/client-go v0.35.4\n");
    expect(goMod).toContain("\tk8s.io/kms => k8s.io/kms v0.35.4\n");
    expect(goMod).not.toContain("github.com/some/fork");
    expect(goMod.match(/=>/g)).toHaveLength(4);
  });

  it("refuses a go.mod without staging replaces and a version that is not a 1.x release", () => {
    expect(() => controlPlaneGoMod("v1.35.4", "module k8s.io/kubernetes\n")).toThrow(/no staging replaces/);
    expect(() => stagingVersion("v2.0.1")).toThrow(/v1\.35\.4/);
    expect(stagingVersion("v1.36.3")).toBe("v0.36.3");
  });

  // The real go.mod from the module proxy (cached in GOMODCACHE by `make cluster-build`, which runs first).
  it("lists the 31 staging modules of the pinned release's real go.mod", async () => {
    const { go, env } = await requireGo("this test");
    const { stdout } = await run(go, ["mod", "download", "-json", `k8s.io/kubernetes@${pins.cluster.kubernetes}`], { cwd: tmpdir(), env, silent: true });
    const goModFile = (JSON.parse(stdout) as { GoMod: string }).GoMod;
    expect(stagingModules(readFileSync(goModFile, "utf8"))).toHaveLength(31);
  }, 300_000);
});

describe("etcd wrapper module and version stamp", () => {
  it("requires the etcd server module at the pin, with no replaces", () => {
    const goMod = etcdGoMod("v3.6.16");
    expect(goMod).toContain("require go.etcd.io/etcd/server/v3 v3.6.16");
    expect(goMod).not.toContain("replace");
  });

  it("stamps the release into both version packages, so /version and kubectl report it", () => {
    const flags = versionLdflags("v1.35.4", "2026-04-15T18:01:22Z");
    for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
      expect(flags).toContain(`-X ${pkg}.gitVersion=v1.35.4`);
      expect(flags).toContain(`-X ${pkg}.gitMajor=1`);
      expect(flags).toContain(`-X ${pkg}.gitMinor=35`);
      expect(flags).toContain(`-X ${pkg}.buildDate=2026-04-15T18:01:22Z`);
      expect(flags).toContain(`-X ${pkg}.gitTreeState=clean`);
    }
  });
});
