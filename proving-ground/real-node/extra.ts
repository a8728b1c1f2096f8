// What an extra of the real node is (see extras.ts for the list and --with):
// its own module so that an extra's implementation can name these types
// without importing the list that imports it.
import type { ClusterLayout } from "../cluster/layout.ts";
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
