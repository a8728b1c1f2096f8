// A scratch copy of what the gitops checks read (gitops/ and helm/), to
// change and check again: a third tenant, or a deliberately broken tree.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { repoRoot } from "../../tasks/lib/paths.ts";

export interface Checkout {
  root: string;
  read(file: string): string;
  /** Replace `from` by `to` in a file of the copy; `from` must be there, so a changed tree fails loudly. */
  edit(file: string, from: string, to: string): void;
  write(file: string, text: string): void;
}

/** Copies are removed after the test file. */
export function useCheckoutCopies(): () => Checkout {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const root = mkdtempSync(join(tmpdir(), "korthweb-gitops-"));
    made.push(root);
    for (const folder of ["gitops", "helm"]) cpSync(join(repoRoot, folder), join(root, folder), { recursive: true });
    const path = (file: string) => join(root, file);
    return {
      root,
      read: (file) => readFileSync(path(file), "utf8"),
      edit: (file, from, to) => {
        const text = readFileSync(path(file), "utf8");
        if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
        // A function, so that "$$" or "$&" in `to` are written as they are, not read as replacement patterns.
        writeFileSync(path(file), text.replace(from, () => to));
      },
      write: (file, text) => {
        if (!existsSync(join(path(file), ".."))) throw new Error(`no folder for ${file}`);
        writeFileSync(path(file), text);
      },
    };
  };
}
