// The first-build estimate make demo prints before it starts building.
import { describe, expect, it } from "vitest";
import { coldBuildMinutes, describePending, unmeasuredMinutes } from "../../proving-ground/real-node/build-estimate.ts";
import { nodeBinaries } from "../../proving-ground/real-node/builds.ts";
import { imageSpecs } from "../../proving-ground/real-node/images.ts";

describe("the first-build estimate", () => {
  it("says nothing needs building when the cache is complete", () => {
    expect(describePending([])).toMatch(/built already/);
  });

  it("names every pending item and sums their minutes", () => {
    const line = describePending([
      { item: "control plane", minutes: coldBuildMinutes["control plane"]! },
      { item: "traefik", minutes: coldBuildMinutes.traefik! },
      { item: "something new", minutes: unmeasuredMinutes },
    ]);
    expect(line).toContain("control plane, traefik, something new");
    expect(line).toContain(`about ${coldBuildMinutes["control plane"]! + coldBuildMinutes.traefik! + unmeasuredMinutes} min`);
  });

  it("has a measured figure for each item the real node builds (a new component or Debian image needs one)", () => {
    const node = nodeBinaries();
    const debianImages = imageSpecs(node).filter((spec) => spec.recipe.kind === "debian").map((spec) => `image ${spec.name}`);
    const items = ["control plane", "kwok, kwokctl", "kubelet, kube-proxy", ...Object.keys(node.components), ...debianImages];
    expect(debianImages.length).toBeGreaterThan(0);
    for (const item of items) expect(coldBuildMinutes[item], item).toBeGreaterThan(0);
  });
});
