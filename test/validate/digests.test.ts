// `make validate`'s digest warnings: every image pinned by tag only is named
// with where to set its digest; a digest silences it; OCI chart pins too.
import { describe, expect, it } from "vitest";
import type { SourcedObject } from "../../tasks/lib/manifests.ts";
import { dedupeWarnings, unpinnedCharts, unpinnedImages } from "../../proving-ground/validate/digests.ts";
import { render } from "../helpers/chart.ts";

const sourced = (objects: Record<string, unknown>[]): SourcedObject[] => objects.map((object, index) => ({ object: object as SourcedObject["object"], source: "test", index }));

describe("digest warnings", () => {
  it("names each tag-only image of the chart's workloads with the value that pins it; digests silence them", async () => {
    const warnings = dedupeWarnings(unpinnedImages(sourced(await render())));
    expect(warnings.map((w) => w.message.split(";")[0])).toEqual([
      "image orthancteam/orthanc:26.9.1 is pinned by tag only",
      "image docker.io/bitnamilegacy/postgresql:17.6.0-debian-12-r4 is pinned by tag only",
    ]);
    expect(warnings[0]!.message).toContain("set image.digest in the orthanc chart's values: find it with `crane digest orthancteam/orthanc:26.9.1`");
    const digest = `sha256:${"a".repeat(64)}`;
    const pinned = await render({ values: { image: { digest }, backup: { image: { digest } } } });
    expect(unpinnedImages(sourced(pinned))).toEqual([]);
  });

  it("names OCI chart pins without a digest, not those with one or non-OCI charts", () => {
    const warnings = unpinnedCharts({ a: { chart: "oci://r/c", version: "1.0.0" }, b: { chart: "oci://r/d", version: "2", digest: "sha256:x" }, c: { chart: "kiali-operator", version: "3" } });
    expect(warnings.map((w) => w.object)).toEqual(["pins.a"]);
  });
});
