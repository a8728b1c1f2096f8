// Extras of the real node: controllers a cluster gets on request
// (`make cluster-up ARGS="--real-node --with cert-manager"`), on top of the
// system components every real node runs. Each is built once (cached by
// content, before the node starts changing the host), its images imported into
// the node's containerd, then installed once the node and its system
// components are Ready. A new extra is one entry in `nodeExtras`.
import { TaskError } from "../../tasks/lib/errors.ts";
import { certManagerExtra } from "./cert-manager.ts";
import type { NodeExtra } from "./extra.ts";

export const nodeExtras: readonly NodeExtra[] = [certManagerExtra];

export const extrasHelp = `extras to install on the real node, comma-separated: ${nodeExtras.map((extra) => extra.name).join(", ")}`;

/** Reads `--with a,b`: each name must be a known extra (a usage error naming the flag otherwise, before anything changes). */
export function parseExtras(raw: unknown, known: readonly NodeExtra[] = nodeExtras): NodeExtra[] {
  if (raw === undefined || raw === false) return [];
  if (typeof raw !== "string" || raw.trim() === "") {
    throw new TaskError(`--with needs a value: one or more of ${known.map((extra) => extra.name).join(", ")}, comma-separated`, { code: "usage" });
  }
  const names = [...new Set(raw.split(",").map((name) => name.trim()).filter(Boolean))];
  const unknown = names.filter((name) => !known.some((extra) => extra.name === name));
  if (unknown.length) {
    throw new TaskError(`--with: unknown extra ${unknown.map((name) => `"${name}"`).join(", ")}; known: ${known.map((extra) => extra.name).join(", ")}. Nothing was changed`, { code: "usage" });
  }
  return names.map((name) => known.find((extra) => extra.name === name)!);
}
