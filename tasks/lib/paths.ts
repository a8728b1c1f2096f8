// Where things live in the checkout. Everything the project makes at run time
// goes under .tools/ (pinned binaries) or .work/ (state, reports), both ignored by Git.
import { isAbsolute, join, relative, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "..", "..");
export const toolsDir = resolve(repoRoot, ".tools");
export const toolsBinDir = resolve(toolsDir, "bin");
export const workDir = resolve(process.env.KORTHWEB_WORK_DIR ?? resolve(repoRoot, ".work"));

export const fromRoot = (...parts: string[]): string => resolve(repoRoot, ...parts);

/** A path as people type it: relative to the checkout when inside it, absolute otherwise. */
export function displayPath(path: string): string {
  const inside = relative(repoRoot, path);
  return inside === "" ? "." : inside.startsWith("..") || isAbsolute(inside) ? path : inside;
}

/**
 * The local stack's folder (proving-ground/local): KORTHWEB_LOCAL_DIR, else .work/local. Here because the kit's
 * smoke suite finds the stack's target file in it without importing the proving ground.
 */
export const localStackDir = (env: NodeJS.ProcessEnv = process.env): string =>
  env.KORTHWEB_LOCAL_DIR ? fromRoot(env.KORTHWEB_LOCAL_DIR) : join(workDir, "local");
