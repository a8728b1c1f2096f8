// Flux's multi-tenancy lockdown as committed YAML: the cluster's flux-system
// folder (kustomize patches over install.yaml), built over the stand-in
// manifest whose controller Deployments are shaped like Flux's. The committed
// patches give exactly the flags Flux's multi-tenancy guide sets, on the right
// controllers only; a copy with a patch removed or weakened, or a manifest the
// patches no longer fit, is reported by make gitops-check and refused by step 2.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFluxSystem, fluxInstallStandIn } from "../../proving-ground/checks/gitops/flux-lockdown-check.ts";
import { loadFluxManifest } from "../../tasks/gitops/flux.ts";
import { buildFluxSystem, lockdownGaps, lockedDownFlux, noRightsServiceAccount } from "../../tasks/gitops/flux-lockdown.ts";
import { defaultClusterPath } from "../../tasks/gitops/tree.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();
const folderFile = "gitops/clusters/production/flux-system/kustomization.yaml";
const argsOf = (objects: readonly KubeObject[], name: string): string[] =>
  (objects.find((o) => o.kind === "Deployment" && o.metadata?.name === name)?.spec as any).template.spec.containers.find((c: any) => c.name === "manager").args;

describe("the committed flux-system folder over the stand-in install.yaml", () => {
  it("adds the lockdown flags to kustomize-, helm- and notification-controller, keeping their own arguments", async () => {
    const manifest = await loadFluxManifest(fluxInstallStandIn);
    const locked = await lockedDownFlux(repoRoot, defaultClusterPath, manifest);
    const own = ["--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"];
    expect(argsOf(locked, "kustomize-controller")).toEqual([
      "--events-addr=http://notification-controller.flux-system.svc.cluster.local./",
      ...own,
      "--no-cross-namespace-refs=true",
      "--no-remote-bases=true",
      `--default-service-account=${noRightsServiceAccount}`,
    ]);
    expect(argsOf(locked, "helm-controller")).toEqual([
      "--events-addr=http://notification-controller.flux-system.svc.cluster.local./",
      ...own,
      "--no-cross-namespace-refs=true",
      `--default-service-account=${noRightsServiceAccount}`,
    ]);
    expect(argsOf(locked, "notification-controller")).toEqual([...own, "--no-cross-namespace-refs=true"]);
    // source-controller serves artifacts; it resolves no references and impersonates nobody.
    expect(argsOf(locked, "source-controller")).toEqual(argsOf(manifest.objects, "source-controller"));
    // Everything else is as the release ships it.
    const byId = (objects: readonly KubeObject[]) => new Map(objects.filter((o) => o.kind !== "Deployment").map((o) => [`${String(o.kind)} ${String(o.metadata?.name)}`, o]));
    expect(byId(locked)).toEqual(byId(manifest.objects));
    expect(lockdownGaps(locked)).toEqual([]);
    expect(await checkFluxSystem(repoRoot, defaultClusterPath)).toEqual([]);
  });

  it("does not pass on the release's manifest alone: the flags come from the committed patches", async () => {
    const manifest = await loadFluxManifest(fluxInstallStandIn);
    expect(lockdownGaps(manifest.objects)).toEqual([
      "kustomize-controller runs without --no-cross-namespace-refs=true",
      "kustomize-controller runs without --no-remote-bases=true",
      `kustomize-controller runs without --default-service-account=${noRightsServiceAccount}`,
      "helm-controller runs without --no-cross-namespace-refs=true",
      `helm-controller runs without --default-service-account=${noRightsServiceAccount}`,
      "notification-controller runs without --no-cross-namespace-refs=true",
    ]);
  });
});

describe("a broken flux-system folder", () => {
  it("is reported when a patch is removed, narrowed or weakened, and step 2 refuses it", async () => {
    const removed = copy();
    const text = removed.read(folderFile);
    const remoteBases = text.slice(text.indexOf("  # Kustomizations build"), text.indexOf("  # A Kustomization or HelmRelease"));
    removed.edit(folderFile, remoteBases, "");
    expect((await checkFluxSystem(removed.root, defaultClusterPath)).map((p) => p.message)).toEqual(["kustomize-controller runs without --no-remote-bases=true"]);
    const manifest = await loadFluxManifest(fluxInstallStandIn);
    await expect(lockedDownFlux(removed.root, defaultClusterPath, manifest)).rejects.toThrow(
      "./gitops/clusters/production/flux-system over " + fluxInstallStandIn + " is not locked down: kustomize-controller runs without --no-remote-bases=true",
    );

    const narrowed = copy();
    narrowed.edit(folderFile, "name: (kustomize-controller|helm-controller|notification-controller)", "name: (kustomize-controller|helm-controller)");
    expect((await checkFluxSystem(narrowed.root, defaultClusterPath)).map((p) => p.message)).toEqual(["notification-controller runs without --no-cross-namespace-refs=true"]);

    const weakened = copy();
    weakened.edit(folderFile, "value: --default-service-account=flux-no-rights", "value: --default-service-account=default");
    expect((await checkFluxSystem(weakened.root, defaultClusterPath)).map((p) => p.message)).toEqual([
      `kustomize-controller runs with --default-service-account=default, not --default-service-account=${noRightsServiceAccount}`,
      `helm-controller runs with --default-service-account=default, not --default-service-account=${noRightsServiceAccount}`,
    ]);
  });

  it("is refused when the manifest sets a flag back after the patches, or has no manager container where the patches point", async () => {
    const manifest = await loadFluxManifest(fluxInstallStandIn);
    const loose = structuredClone(manifest.objects);
    const built = await buildFluxSystem(repoRoot, defaultClusterPath, manifest);
    argsOf(built, "helm-controller").push("--no-cross-namespace-refs=false");
    expect(lockdownGaps(built)).toEqual(["helm-controller runs with --no-cross-namespace-refs=false, not --no-cross-namespace-refs=true"]);
    (loose.find((o) => o.metadata?.name === "kustomize-controller")?.spec as any).template.spec.containers[0].name = "controller";
    const renamed = { text: loose.map((o) => JSON.stringify(o)).join("\n---\n"), origin: "renamed.yaml" };
    await expect(lockedDownFlux(repoRoot, defaultClusterPath, renamed)).rejects.toThrow(/renamed.yaml is not locked down: no Deployment flux-system\/kustomize-controller with a "manager" container/);
  });

  it("is a clear error when the folder is missing", async () => {
    const checkout = copy();
    rmSync(join(checkout.root, "gitops/clusters/production/flux-system"), { recursive: true });
    const problems = await checkFluxSystem(checkout.root, defaultClusterPath);
    expect(problems.map((p) => p.message)).toEqual([
      "./gitops/clusters/production/flux-system/kustomization.yaml is missing: it holds Flux's multi-tenancy lockdown",
    ]);
    expect(readFileSync(fluxInstallStandIn, "utf8")).toMatch(/^# A STAND-IN for Flux v2\.9\.6's install\.yaml/);
  });
});
