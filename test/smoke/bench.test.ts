// The benchmark's arithmetic: group sizes, percentiles, the median of
// repeated runs, and which ratios are reported against which targets.
import { describe, expect, it } from "vitest";
import { medianRun, ratios, withDirectPath } from "../../smoke/bench-cli.ts";
import type { SmokeTarget } from "../../smoke/target.ts";
import { groupSizes, percentile, type BenchRun } from "../../smoke/bench.ts";

const run = (client: BenchRun["client"], path: BenchRun["path"], size: string, instancesPerSecond: number, failures = 0): BenchRun => ({
  client,
  path,
  size,
  count: 10,
  concurrency: 1,
  instanceBytes: 1,
  seconds: 10 / instancesPerSecond,
  instancesPerSecond,
  megabytesPerSecond: 0,
  failures,
});

describe("bench figures", () => {
  it("spreads instances over associations and takes percentiles", () => {
    expect(groupSizes(10, 4)).toEqual([3, 3, 2, 2]);
    expect(groupSizes(2, 4)).toEqual([1, 1]);
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile([], 50)).toBeNaN();
  });

  it("shows the median run with the range, adding up failures", () => {
    const median = medianRun([run("storescu", "ingress", "large", 30, 1), run("storescu", "ingress", "large", 10), run("storescu", "ingress", "large", 20)]);
    expect(median.instancesPerSecond).toBe(20);
    expect(median.range).toEqual([10, 30]);
    expect(median.failures).toBe(1);
    expect(median.repeats).toBe(3);
  });

  it("reports ingress/direct against 0.9 and ours/storescu against 0.8", () => {
    const list = ratios([
      run("dcmjs-dimse", "ingress", "large", 45),
      run("dcmjs-dimse", "direct", "large", 50),
      run("storescu", "ingress", "large", 50),
    ]);
    expect(list).toEqual([
      { what: "ingress/direct throughput, large (dcmjs-dimse)", value: 0.9, target: 0.9 },
      { what: "dcmjs-dimse/storescu throughput, large, ingress", value: 0.9, target: 0.8 },
    ]);
  });
});

describe("the direct path of a cluster target (--direct-host)", () => {
  const target = { host: "192.0.2.241", dicomPort: 11112 } as SmokeTarget;

  it("adds a direct path to the named pod, on Orthanc's DICOM port 4242 by default", () => {
    expect(withDirectPath(target, { "direct-host": "198.18.0.8" }).direct).toEqual({ host: "198.18.0.8", dicomPort: 4242, httpPort: 8042 });
    expect(withDirectPath(target, { "direct-host": "127.0.0.1", "direct-dicom-port": "14242" }).direct?.dicomPort).toBe(14242);
  });

  it("leaves the target as it is without the flag", () => {
    expect(withDirectPath(target, {})).toBe(target);
  });

  it("refuses a bad host or port, and a port without a host, naming the flag", () => {
    expect(() => withDirectPath(target, { "direct-host": "a b" })).toThrow(/--direct-host "a b"/);
    expect(() => withDirectPath(target, { "direct-host": "198.18.0.8", "direct-dicom-port": "70000" })).toThrow(/--direct-dicom-port "70000"/);
    expect(() => withDirectPath(target, { "direct-dicom-port": "4242" })).toThrow(/needs --direct-host/);
  });
});
