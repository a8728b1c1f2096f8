// The real-node fault test's configuration change, checked without a node:
// the values file it upgrades with keeps the tier's image and changes only
// Orthanc's Name, and that change reaches orthanc.json and the pod template's
// checksum, so `helm upgrade` really rolls the Deployment (a rolling update
// the stream must survive), and the PDB and the rolling-update bounds the
// test counts on are the chart's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { writeUpgradeValues } from "../../proving-ground/real-node/kube-faults.ts";
import { valuesFileText } from "../../proving-ground/real-node/real-node.ts";
import { as, find, render } from "../helpers/chart.ts";

describe("the real-node fault test's helm upgrade", () => {
  const dir = mkdtempSync(join(tmpdir(), "korthweb-kube-faults-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tierValues = join(dir, "real-node.values.yaml");
  const upgraded = join(dir, "upgraded.values.yaml");
  writeFileSync(tierValues, valuesFileText({ orthanc: "korthweb.local/orthanc:1.13-abc", postgresql: "korthweb.local/postgresql:15-def" }));
  writeUpgradeValues(tierValues, upgraded, "Orthanc upgraded by the fault test");

  it("keeps the tier's values and changes only Orthanc's Name", () => {
    const before = parse(readFileSync(tierValues, "utf8")) as Record<string, unknown>;
    expect(parse(readFileSync(upgraded, "utf8"))).toEqual({ ...before, orthanc: { name: "Orthanc upgraded by the fault test" } });
  });

  it("rolls the Deployment: a new configuration checksum, the new Name in orthanc.json, the same image; maxUnavailable 0, maxSurge 1, PDB maxUnavailable 1", async () => {
    const [was, now] = await Promise.all([render({ valuesFiles: [tierValues] }), render({ valuesFiles: [upgraded] })]);
    const deployment = (objects: typeof was) => as(find(objects, "Deployment", "orthanc"));
    const config = (objects: typeof was) => JSON.parse(as(find(objects, "ConfigMap", "orthanc-config")).data["orthanc.json"]) as { Name: string };
    expect(deployment(now).spec.template.metadata.annotations["checksum/config"]).not.toBe(deployment(was).spec.template.metadata.annotations["checksum/config"]);
    expect(config(was).Name).toBe("Orthanc");
    expect(config(now).Name).toBe("Orthanc upgraded by the fault test");
    expect(deployment(now).spec.template.spec.containers[0].image).toBe(deployment(was).spec.template.spec.containers[0].image);
    expect(deployment(now).spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(as(find(now, "PodDisruptionBudget", "orthanc")).spec.maxUnavailable).toBe(1);
  });
});
