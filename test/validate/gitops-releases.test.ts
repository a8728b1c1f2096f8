// `make validate` sees what each tenant's HelmRelease installs: the chart
// rendered with the release's inline values, findings pointing at the folder
// and HelmRelease they come from; and what each Flux Kustomization with
// postBuild variables applies, with the variables filled in. Bad values go into a scratch copy of the tree.
import { describe, expect, it } from "vitest";
import { formatFinding } from "../../proving-ground/validate/finding.ts";
import { gitopsReleaseSources } from "../../proving-ground/validate/gitops-releases.ts";
import { repositorySources } from "../../proving-ground/validate/sources.ts";
import { validateSources } from "../../proving-ground/validate/validate.ts";
import { useCheckoutCopies } from "../gitops/copy.ts";

const copy = useCheckoutCopies();
const bhc = "gitops/tenants/bhc/workload (HelmRelease bhc/orthanc → helm/orthanc)";
const mhr = "gitops/tenants/mhr/workload (HelmRelease mhr/orthanc → helm/orthanc)";
// The real-node tier's cluster folder (gitops/clusters/real-node) reaches the same tenants' folders through its own.
const realNodeBhc = "gitops/clusters/real-node/tenants/bhc/workload (HelmRelease bhc/orthanc → helm/orthanc)";
const realNodeMhr = "gitops/clusters/real-node/tenants/mhr/workload (HelmRelease mhr/orthanc → helm/orthanc)";
const realNodeSubstituted = [
  "gitops/clusters/real-node/onboarding (Kustomization flux-system/tenant-bhc, postBuild)",
  "gitops/clusters/real-node/onboarding (Kustomization flux-system/tenant-mhr, postBuild)",
  "gitops/clusters/real-node/tenants/bhc/workload (Kustomization bhc/tenant, postBuild)",
  "gitops/clusters/real-node/tenants/mhr/workload (Kustomization mhr/tenant, postBuild)",
];

describe("the validator's gitops release sources", () => {
  it("render each tenant's Orthanc release and what each tenant's Kustomizations apply after Flux's substitution, clean, as part of the repository's sources", async () => {
    const sources = await gitopsReleaseSources();
    const substituted = [
      "gitops/tenants/base/onboarding (Kustomization flux-system/tenant-bhc, postBuild)",
      "gitops/tenants/base/onboarding (Kustomization flux-system/tenant-mhr, postBuild)",
      "gitops/tenants/bhc/workload (Kustomization bhc/tenant, postBuild)",
      "gitops/tenants/mhr/workload (Kustomization mhr/tenant, postBuild)",
    ];
    expect(sources.map((source) => source.label)).toEqual([...substituted, bhc, mhr, ...realNodeSubstituted, realNodeBhc, realNodeMhr]);
    for (const result of await validateSources(sources)) {
      expect(result.findings.map(formatFinding), result.source.label).toEqual([]);
      expect(result.objects, result.source.label).toBeGreaterThan([...substituted, ...realNodeSubstituted].includes(result.source.label) ? 5 : 10);
    }
    expect((await repositorySources()).map((source) => source.label)).toEqual(expect.arrayContaining([...substituted, bhc, mhr]));
  });

  it("report a bad value in one tenant's HelmRelease at that tenant's release, and only there", async () => {
    const checkout = copy();
    const file = "gitops/tenants/bhc/workload/kustomization.yaml";
    // A password in a URL, in a variable whose name says nothing about secrets. Assembled
    // here so that the repository's own secret scan (make audit) does not trip over it.
    const url = ["postgresql://orthanc", "s3cret@db/orthanc"].join(":");
    const patch = [
      "patches:",
      "  - target: { kind: HelmRelease, name: orthanc }",
      "    patch: |",
      "      - op: add",
      "        path: /spec/values/extraEnv",
      "        value:",
      `          - { name: DATABASE_URL, value: '${url}' }`,
      "",
    ].join("\n");
    checkout.write(file, `${checkout.read(file)}${patch}`);
    const findings = (await validateSources(await gitopsReleaseSources(checkout.root))).flatMap((result) => result.findings);
    // bhc's release in each cluster folder that deploys bhc (production and the real-node tier's), never mhr's.
    expect(findings.map(formatFinding)).toEqual([
      expect.stringMatching(/^gitops\/tenants\/bhc\/workload \(HelmRelease bhc\/orthanc → helm\/orthanc\): Deployment bhc\/orthanc: spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value: \[credentials\] env DATABASE_URL contains a URL with a password/),
      expect.stringMatching(/^gitops\/clusters\/real-node\/tenants\/bhc\/workload \(HelmRelease bhc\/orthanc → helm\/orthanc\): Deployment bhc\/orthanc: spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value: \[credentials\] env DATABASE_URL contains a URL with a password/),
    ]);
  });

  it("report a value the chart refuses as a render finding of each release that uses it", async () => {
    const checkout = copy();
    checkout.edit("gitops/tenants/base/workload/orthanc.yaml", "    networkPolicy:\n", "    networkPolicies:\n");
    const findings = (await validateSources(await gitopsReleaseSources(checkout.root))).flatMap((result) => result.findings);
    expect(findings.map((finding) => [finding.file, finding.rule])).toEqual([
      [bhc, "render"],
      [mhr, "render"],
      [realNodeBhc, "render"],
      [realNodeMhr, "render"],
    ]);
    expect(findings[0]!.message).toMatch(/networkPolicies/);
  });
});
