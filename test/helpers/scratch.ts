// Temporary folders for tests, removed after the test file that made them:
// the helpers hand out files (kubeconfigs, values files) whose users outlive
// the call that made them, so no single caller can remove them, and hundreds
// of folders piled up in /tmp run after run. The afterAll hook is registered
// when a test file imports this module (vitest evaluates it per file); an
// exit handler would not do: vitest's forks are killed, not exited.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new folder under the system's temporary folder, named `<prefix>XXXXXX`, gone after the test file. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
