// What the numbered steps of the local stack share: their settings, and how
// a step that starts something behaves in --dry-run.
import { log } from "../../tasks/lib/log.ts";
import type { Task, TaskContext } from "../../tasks/lib/task.ts";
import { loadLocalSettings, localFlags, type LocalSettings } from "./settings.ts";

export const settingsOf = (ctx: TaskContext): LocalSettings => loadLocalSettings(ctx.settings, ctx.flags);

/** In --dry-run: says what the step would do and returns true. */
export function dryRunNote(ctx: TaskContext, what: string): boolean {
  if (ctx.dryRun) log.info(`[dry-run] would ${what}`);
  return ctx.dryRun;
}

/** A step that starts something: in --dry-run it only says what it would do. */
export function startStep(id: string, title: string, summary: string, would: string, step: (settings: LocalSettings) => Promise<unknown>): Task {
  return {
    id,
    title,
    summary,
    flags: localFlags,
    run: async (ctx) => {
      if (!dryRunNote(ctx, would)) await step(settingsOf(ctx));
    },
  };
}
