// Renders helm/orthanc with the real helm binary, the way the tests need it:
// offline (`helm template`), or against a (fake) API server so that `lookup`
// runs (`--dry-run=server`). Returns parsed objects and small finders.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { scratchDir } from "./scratch.ts";

export const chartDir = fromRoot("helm", "orthanc");

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files, relative to the repository root or absolute. */
  valuesFiles?: readonly string[];
  /** Values given inline (written to a temporary file, applied last). */
  values?: Record<string, unknown>;
  /** Render against the API server of this kubeconfig (lookup works). */
  kubeconfig?: string;
}

export async function renderRaw(options: RenderOptions = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const files = (options.valuesFiles ?? []).map((file) => (file.startsWith("/") ? file : fromRoot(file)));
  if (options.values) {
    const file = join(scratchDir("korthweb-values-"), "values.yaml");
    writeFileSync(file, stringify(options.values));
    files.push(file);
  }
  const args = [
    "template",
    options.release ?? "orthanc",
    chartDir,
    "--namespace",
    options.namespace ?? "orthanc",
    ...files.flatMap((file) => ["-f", file]),
    ...(options.kubeconfig ? ["--dry-run=server", "--disable-openapi-validation", "--kubeconfig", options.kubeconfig] : []),
  ];
  return run(requireToolPath("helm"), args, { silent: true, allowFailure: true });
}

export async function render(options: RenderOptions = {}): Promise<KubeObject[]> {
  const result = await renderRaw(options);
  if (result.exitCode !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout, "helm template").map((item) => item.object);
}

export function find(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among: ${objects.map((o) => `${String(o.kind)}/${String(o.metadata?.name)}`).join(", ")}`);
  return found;
}

export const ofKind = (objects: readonly KubeObject[], kind: string): KubeObject[] => objects.filter((object) => object.kind === kind);

/** Typed access into a rendered object (tests know the shape they rendered). */
export const as = <T = any>(value: unknown): T => value as T;
