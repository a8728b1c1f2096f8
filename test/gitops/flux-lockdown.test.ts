// The multi-tenancy lockdown added to Flux's install.yaml (tasks/gitops/flux-lockdown.ts),
// on the stand-in manifest whose controller Deployments are shaped like Flux's: exactly
// the flags Flux's multi-tenancy guide sets, on the right controllers only, idempotent,
// and refused on a manifest without the controllers.
import { describe, expect, it } from "vitest";
import { loadFluxManifest } from "../../tasks/gitops/flux.ts";
import { lockDownFlux, noRightsServiceAccount, withFlags } from "../../tasks/gitops/flux-lockdown.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";

const fixture = fromRoot("test", "fixtures", "gitops", "flux-install.yaml");
const argsOf = (objects: readonly KubeObject[], name: string): string[] =>
  (objects.find((o) => o.kind === "Deployment" && o.metadata?.name === name)?.spec as any).template.spec.containers.find((c: any) => c.name === "manager").args;

describe("lockDownFlux", () => {
  it("adds the lockdown flags to kustomize-, helm- and notification-controller, keeping their own arguments", async () => {
    const { objects } = await loadFluxManifest(fixture);
    const locked = lockDownFlux(objects);
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
    expect(argsOf(locked, "source-controller")).toEqual(argsOf(objects, "source-controller"));
    // Everything else is as the release ships it, and the input is untouched.
    expect(locked.filter((o) => o.kind !== "Deployment")).toEqual(objects.filter((o) => o.kind !== "Deployment"));
    expect(argsOf(objects, "helm-controller")).not.toContain("--no-cross-namespace-refs=true");
  });

  it("is idempotent and replaces a flag the manifest already sets otherwise", async () => {
    const { objects } = await loadFluxManifest(fixture);
    const once = lockDownFlux(objects);
    expect(lockDownFlux(once)).toEqual(once);
    const loose = structuredClone(objects);
    argsOf(loose, "helm-controller").push("--no-cross-namespace-refs=false", "--default-service-account", "default");
    const locked = argsOf(lockDownFlux(loose), "helm-controller");
    expect(locked.filter((arg) => arg.startsWith("--no-cross-namespace-refs"))).toEqual(["--no-cross-namespace-refs=true"]);
    expect(withFlags(["--a=1", "--b", "--c=3"], ["--a=2", "--b=true"])).toEqual(["--c=3", "--a=2", "--b=true"]);
  });

  it("refuses a manifest without a controller to lock down, rather than install Flux open", async () => {
    const { objects } = await loadFluxManifest(fixture);
    expect(() => lockDownFlux(objects.filter((o) => o.metadata?.name !== "helm-controller"))).toThrow(
      'the Flux manifest has no Deployment flux-system/helm-controller with a "manager" container to lock down',
    );
    const renamed = structuredClone(objects);
    (renamed.find((o) => o.metadata?.name === "kustomize-controller")?.spec as any).template.spec.containers[0].name = "controller";
    expect(() => lockDownFlux(renamed)).toThrow(/kustomize-controller with a "manager" container/);
  });
});
