// Which deployment a backup task works on: the local stack (default) or the
// release in the current kube context (--target kube), with its flags.
import { TaskError } from "../lib/errors.ts";
import type { FlagSpec, FlagValues } from "../lib/task.ts";
import { localFlags } from "../local/settings.ts";

export type BackupTargetKind = "local" | "kube";

export const targetFlags: Record<string, FlagSpec> = {
  target: { type: "string", description: "local (the local stack of make demo, default) or kube (the orthanc release in the kube context)" },
  ...localFlags,
};

export function targetKind(flags: FlagValues): BackupTargetKind {
  const value = flags.target ?? "local";
  if (value !== "local" && value !== "kube") throw new TaskError(`invalid --target "${String(value)}": expected local or kube`, { code: "usage" });
  return value;
}
