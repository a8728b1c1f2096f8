// What `make validate` checks: every approach's output, rendered the way it
// reaches a cluster. Helm charts under helm/ with their default values and each
// values set in <chart>/ci/; every kustomization under gitops/ (kubectl
// kustomize), and what each HelmRelease of this repository's charts installs
// (gitops-releases.ts); every manifest under manual/ (upstream chart values
// files, *.values.yaml, are inputs to other charts and are only parsed).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import { Helm } from "../../tasks/lib/helm.ts";
import { parseManifests, type SourcedObject } from "../../tasks/lib/manifests.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { renderApiVersions } from "../../tasks/lib/api-versions.ts";
import { gitopsReleaseSources } from "./gitops-releases.ts";
import type { Source } from "./source.ts";


const rel = (path: string) => relative(repoRoot, path) || ".";

function walk(dir: string, accept: (path: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "node_modules" && !name.startsWith(".")) out.push(...walk(path, accept));
    } else if (accept(path)) {
      out.push(path);
    }
  }
  return out;
}

const isYaml = (path: string) => /\.ya?ml$/.test(path);
export const isUpstreamValues = (path: string) => /\.values\.ya?ml$/.test(path);

/** Split `helm template` output into objects, each named by the template file it came from. */
export function splitHelmOutput(text: string, chartDir: string, valuesLabel: string): SourcedObject[] {
  const out: SourcedObject[] = [];
  for (const chunk of text.split(/^---\s*$/m)) {
    const template = /^# Source: [^/]+\/(.+)$/m.exec(chunk)?.[1];
    const label = `${rel(chartDir)}/${template ?? "?"} (values: ${valuesLabel})`;
    out.push(...parseManifests(chunk, label));
  }
  return out;
}

export function helmSources(root = repoRoot): Source[] {
  const helmDir = join(root, "helm");
  if (!existsSync(helmDir)) return [];
  const helm = new Helm({ context: undefined, dryRun: true });
  const sources: Source[] = [];
  for (const name of readdirSync(helmDir).sort()) {
    const chartDir = join(helmDir, name);
    if (!existsSync(join(chartDir, "Chart.yaml"))) continue;
    const valueSets = [undefined, ...walk(join(chartDir, "ci"), isYaml)];
    for (const valuesFile of valueSets) {
      const valuesLabel = valuesFile ? rel(valuesFile) : "defaults";
      sources.push({
        label: `helm template ${rel(chartDir)} (values: ${valuesLabel})`,
        committed: false,
        load: async () => {
          const text = await helm.template({
            chart: chartDir,
            release: name,
            namespace: name,
            valuesFiles: valuesFile ? [valuesFile] : [],
            apiVersions: renderApiVersions,
            kubeVersion: pins.minKubernetes,
          });
          return splitHelmOutput(text, chartDir, valuesLabel);
        },
      });
    }
  }
  return sources;
}

// A kustomize Component cannot be built alone (it edits the kustomization that
// includes it); its output is checked through those kustomizations.
const isComponent = (file: string) => /^kind:\s*Component\s*$/m.test(readFileSync(file, "utf8"));

export function kustomizeSources(root = repoRoot): Source[] {
  const kustomizations = walk(join(root, "gitops"), (path) => /(^|\/)kustomization\.ya?ml$/.test(path));
  return kustomizations.filter((file) => !isComponent(file)).map((file) => {
    const dir = join(file, "..");
    return {
      label: `kubectl kustomize ${rel(dir)}`,
      committed: true,
      load: async () => {
        const { stdout } = await run(requireToolPath("kubectl"), ["kustomize", dir], { silent: true });
        return parseManifests(stdout, `${rel(dir)} (kustomize)`);
      },
    };
  });
}

export function manualSources(root = repoRoot): Source[] {
  return walk(join(root, "manual"), isYaml).map((file) => ({
    label: rel(file),
    committed: true,
    load: async () => {
      const text = readFileSync(file, "utf8");
      // Values for upstream charts: must parse, but they are not Kubernetes objects.
      if (isUpstreamValues(file) || /(^|\/)kustomization\.ya?ml$/.test(file)) {
        parseManifests(text, rel(file));
        return [];
      }
      return parseManifests(text, rel(file));
    },
  }));
}

export async function repositorySources(root = repoRoot): Promise<Source[]> {
  return [...helmSources(root), ...kustomizeSources(root), ...(await gitopsReleaseSources(root)), ...manualSources(root)];
}
