// One place objects to validate come from: a folder of YAML, a chart render, a kustomize build.
// Its own module so that the source lists (sources.ts) and the gitops release renders
// (gitops-releases.ts) both name it without importing each other.
import type { SourcedObject } from "../../tasks/lib/manifests.ts";

export interface Source {
  /** How the source is named in findings. */
  label: string;
  /** Objects from committed files (as opposed to rendered at install time). */
  committed: boolean;
  /** Produces the objects; throws when rendering fails. */
  load(): Promise<SourcedObject[]>;
}
