// Extras of the real node: controllers a cluster gets on request
// (`make cluster-up ARGS="--real-node --with cert-manager"`), on top of the
// system components every real node runs. Each is built once (cached by
// content, before the node starts changing the host), its images imported into
// the node's containerd, then installed once the node and its system
// components are Ready. A new extra is one entry in `nodeExtras`.
import { TaskError } from "../../tasks/lib/errors.ts";
import type { ClusterLayout } from "../cluster/layout.ts";
import { certManagerExtra } from "./cert-manager.ts";
import type { BuiltImage } from "./images.ts";

/** What an extra's install gets: the cluster, kubectl and helm pointed at it, and a folder of the node's for its files. */
export interface ExtraContext {
  cluster: ClusterLayout;
  /** kubectl against the cluster; stdout, or throws with stderr. */
  kubectl: (args: string[], input?: string) => Promise<string>;
  /** helm against the cluster; stdout, or throws with stderr. */
  helm: (args: string[]) => Promise<string>;
  /** Inside the node's folder: removed by cluster-down. */
  dir: string;
}

export interface NodeExtra {
  /** What `--with` names. */
  name: string;
  /** One line for output and --help: what runs, what stands in. */
  summary: string;
  /** Builds (or finds cached) its binaries and images; seconds spent (0: cached). */
  build: () => Promise<{ images: BuiltImage[]; seconds: number }>;
  /** Installs it into the running cluster and waits until it works; safe to repeat. */
  install: (ctx: ExtraContext, images: readonly BuiltImage[]) => Promise<void>;
}

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
