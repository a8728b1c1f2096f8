// The Orthanc image's layout hook (proving-ground/real-node/images/orthanc-layout.sh)
// on a fake root filesystem laid out as Debian sid's orthanc-postgresql 5.0
// ships it: the libraries in /usr/lib/orthanc, RELATIVE links to them in
// /usr/share/orthanc/plugins. The hook's links are absolute paths inside the
// image; a machine without Orthanc of its own (a fresh clone's) must still
// find them — the cold build of 2026-12-07 failed there, while machines that
// had Debian's Orthanc installed for the local stack hid the fault.
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";

const hook = fromRoot("proving-ground", "real-node", "images", "orthanc-layout.sh");
const plugins = ["libOrthancPostgreSQLIndex.so", "libOrthancPostgreSQLStorage.so"];
// The hook chowns to uid 999, as mmdebstrap runs it: as root.
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn("image hook tests skipped: orthanc-layout.sh chowns files to uid 999, which needs root");

describe.skipIf(!isRoot)("orthanc-layout.sh on a fake root", () => {
  let root = "";
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A root as Debian's orthanc-postgresql leaves it; `missing` names a library left out. */
  const fakeRoot = (missing?: string) => {
    root = mkdtempSync(join(tmpdir(), "korthweb-image-hook-"));
    for (const dir of ["usr/local/bin", "usr/lib/orthanc", "usr/share/orthanc/plugins", "tmp", "etc"]) mkdirSync(join(root, dir), { recursive: true });
    for (const plugin of plugins) {
      if (plugin !== missing) writeFileSync(join(root, "usr/lib/orthanc", `${plugin}.5.0`), "");
      symlinkSync(`../../../lib/orthanc/${plugin}.5.0`, join(root, "usr/share/orthanc/plugins", plugin));
    }
    return root;
  };

  it("links both PostgreSQL plugins into plugins-available by their path in the image, on a machine without Orthanc", async () => {
    // The second test is the one that catches a check resolved on this machine where it has no Orthanc.
    const dir = fakeRoot();
    const result = await run("sh", [hook, dir], { allowFailure: true, silent: true });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("2 plugins linked");
    for (const plugin of plugins) expect(readlinkSync(join(dir, "usr/share/orthanc/plugins-available", plugin))).toBe(`/usr/share/orthanc/plugins/${plugin}`);
  });

  it("fails, naming the plugin, when a package's library is not there", async () => {
    const dir = fakeRoot("libOrthancPostgreSQLStorage.so");
    const result = await run("sh", [hook, dir], { allowFailure: true, silent: true });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("libOrthancPostgreSQLStorage.so not found in the packages");
  });
});
