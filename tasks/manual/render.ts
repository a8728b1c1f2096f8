// `make manual-render`: renders helm/orthanc with manual/05-orthanc/orthanc.values.yaml
// and writes the result as the manual approach's plain YAML, split by step:
// the workload (05-orthanc), its Gateway and VirtualServices (06-routing) and
// its ServiceMonitor (08-observability, where the CRD exists). The chart stays
// the only definition; these files are its output, committed so that a reader
// can see and apply exactly what runs.
//   node tasks/manual/render.ts           rewrite the files
//   node tasks/manual/render.ts --check   exit 9 when a committed file differs from a fresh render
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { stringify } from "yaml";
import { describeError, exitCodeOf, TaskError } from "../lib/errors.ts";
import { Helm } from "../lib/helm.ts";
import { log } from "../lib/log.ts";
import { parseManifests, describeObject, type KubeObject } from "../lib/manifests.ts";
import { fromRoot, repoRoot } from "../lib/paths.ts";
import { pins } from "../lib/settings.ts";
import { files, orthancRelease } from "./layout.ts";
import { prometheusCertDir } from "./mesh.ts";

export const chartDir = fromRoot("helm", "orthanc");
export const renderCommand = "make manual-render";

interface RenderedObject {
  object: KubeObject;
  /** Chart template it came from, e.g. "templates/deployment.yaml". */
  template: string;
}

/** `helm template` of the chart with the manual values; objects with the template each came from. */
export async function renderChart(valuesFiles: readonly string[] = [files.orthancValues]): Promise<RenderedObject[]> {
  const helm = new Helm({ context: undefined, dryRun: true });
  const text = await helm.template({
    chart: chartDir,
    release: orthancRelease.name,
    namespace: orthancRelease.namespace,
    valuesFiles,
    kubeVersion: pins.minKubernetes,
  });
  const out: RenderedObject[] = [];
  for (const chunk of text.split(/^---\s*$/m)) {
    const template = /^# Source: [^/]+\/(.+)$/m.exec(chunk)?.[1] ?? "?";
    for (const { object } of parseManifests(chunk, `helm template ${relative(repoRoot, chartDir)}`)) out.push({ object, template });
  }
  return out;
}

/**
 * The chart's ServiceMonitor scrapes plain HTTP. Under STRICT mutual TLS only
 * a client with a mesh certificate reaches Orthanc's sidecar, so Prometheus
 * scrapes over HTTPS with the certificate its own sidecar writes to
 * prometheusCertDir (see kube-prometheus-stack.values.yaml). insecureSkipVerify:
 * the peer presents a SPIFFE identity, not a host name; the sidecar on the
 * other side still verifies Prometheus' certificate against the mesh CA.
 * TODO(chart): drop this once helm/orthanc takes metrics.serviceMonitor.scheme
 * and .tlsConfig as values (requested from the chart's owner).
 */
export function scrapeThroughMesh(serviceMonitor: KubeObject): KubeObject {
  const copy = structuredClone(serviceMonitor) as KubeObject & { spec: { endpoints: Record<string, unknown>[] } };
  copy.spec.endpoints = copy.spec.endpoints.map((endpoint) => ({
    ...endpoint,
    scheme: "https",
    tlsConfig: {
      caFile: `${prometheusCertDir}/root-cert.pem`,
      certFile: `${prometheusCertDir}/cert-chain.pem`,
      keyFile: `${prometheusCertDir}/key.pem`,
      insecureSkipVerify: true,
    },
  }));
  return copy;
}

const isHook = (object: KubeObject) => {
  const annotations = (object.metadata?.annotations ?? {}) as Record<string, unknown>;
  return "helm.sh/hook" in annotations;
};

/** Which committed file each rendered object belongs to. */
export function splitByStep(objects: readonly RenderedObject[]): Map<string, RenderedObject[]> {
  const out = new Map<string, RenderedObject[]>([
    [files.orthanc, []],
    [files.routing, []],
    [files.orthancServiceMonitor, []],
  ]);
  for (const item of objects) {
    if (isHook(item.object)) {
      throw new TaskError(`${describeObject(item.object)} (${item.template}) is a Helm hook: kubectl would apply it as an ordinary object`, {
        code: "invalidValues",
        hint: `keep tests.enabled: false in ${relative(repoRoot, files.orthancValues)}`,
      });
    }
    if (item.object.kind === "Gateway" || item.object.kind === "VirtualService") out.get(files.routing)!.push(item);
    else if (item.object.kind === "ServiceMonitor") out.get(files.orthancServiceMonitor)!.push({ ...item, object: scrapeThroughMesh(item.object) });
    else out.get(files.orthanc)!.push(item);
  }
  return out;
}

const headers: Record<string, string> = {
  [files.orthanc]: "Step 5: the Orthanc workload (Deployment, Service, configuration, NetworkPolicy, PDB).",
  [files.routing]: "Step 6: routing at the Istio ingress gateway (443 HTTPS, 11112 DICOM over TLS).",
  [files.orthancServiceMonitor]:
    "Step 8: Prometheus scrapes Orthanc's metrics. Changed after rendering (tasks/manual/render.ts, scrapeThroughMesh):\n# scheme https with the mesh certificate of Prometheus' sidecar, as mutual TLS is STRICT.",
};

/** The text of one committed file. */
export function fileText(path: string, items: readonly RenderedObject[]): string {
  const head = [
    `# GENERATED by \`${renderCommand}\` from helm/orthanc with ${relative(repoRoot, files.orthancValues)}`,
    `# (release ${orthancRelease.name}, namespace ${orthancRelease.namespace}). Do not edit: change the chart or the values, then re-render.`,
    `# ${headers[path] ?? ""}`,
  ].join("\n");
  const docs = items.map((item) => `# Source: helm/orthanc/${item.template}\n${stringify(item.object, { lineWidth: 0 })}`);
  return `${head}\n---\n${docs.join("---\n")}`;
}

/** Every committed file and the text a fresh render gives it. */
export async function renderFiles(valuesFiles?: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [path, items] of splitByStep(await renderChart(valuesFiles))) out.set(path, fileText(path, items));
  return out;
}

/** Committed files whose content differs from `expected` (missing files included). */
export function driftedFiles(expected: ReadonlyMap<string, string>, read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined)): string[] {
  return [...expected].filter(([path, text]) => read(path) !== text).map(([path]) => path);
}

export function driftError(paths: readonly string[]): TaskError {
  return new TaskError(`${paths.map((path) => relative(repoRoot, path)).join(", ")} no longer match what helm/orthanc renders with ${relative(repoRoot, files.orthancValues)}`, {
    code: "findings",
    hint: `run \`${renderCommand}\` and commit the result (review the diff: it is what changes on the cluster)`,
  });
}

if (import.meta.main) {
  try {
    const rendered = await renderFiles();
    const drifted = driftedFiles(rendered);
    if (process.argv.includes("--check")) {
      if (drifted.length > 0) throw driftError(drifted);
      log.ok("manual/ matches helm/orthanc");
    } else {
      for (const path of drifted) {
        writeFileSync(path, rendered.get(path)!);
        log.ok(`wrote ${relative(repoRoot, path)}`);
      }
      if (drifted.length === 0) log.ok("manual/ already matches helm/orthanc: nothing to write");
    }
  } catch (error) {
    log.error(describeError(error));
    process.exitCode = exitCodeOf(error);
  }
}
