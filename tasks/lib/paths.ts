// Where things live in the checkout. Everything the project makes at run time
// goes under .tools/ (pinned binaries) or .work/ (state, reports), both ignored by Git.
import { resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "..", "..");
export const toolsDir = resolve(repoRoot, ".tools");
export const toolsBinDir = resolve(toolsDir, "bin");
export const workDir = resolve(process.env.KORTHWEB_WORK_DIR ?? resolve(repoRoot, ".work"));

export const fromRoot = (...parts: string[]): string => resolve(repoRoot, ...parts);
