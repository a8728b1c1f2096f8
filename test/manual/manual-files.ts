// The manual approach's committed files as data, for the tests: every object
// under manual/ (upstream values files excluded), values files parsed, and
// helpers to find objects and to make broken copies.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { type KubeObject } from "../../tasks/lib/manifests.ts";
import { readObjects } from "../../tasks/manual/apply.ts";
import { files } from "../../tasks/manual/layout.ts";

/** Every object of the files the steps apply (values files are inputs to charts, not objects). */
export const manifestFiles = [
  files.istioNamespaces,
  files.istioOperator,
  files.certManagerNamespace,
  files.caChain,
  files.appNamespace,
  files.orthanc,
  files.routing,
  files.peerAuthentication,
  files.authorizationPolicies,
  files.observabilityNamespaces,
  files.kiali,
  files.istioMonitors,
  files.orthancServiceMonitor,
  files.orthancDashboard,
];

export const allObjects = (): KubeObject[] => manifestFiles.flatMap((path) => readObjects(path));

export const values = <T = any>(path: string): T => parse(readFileSync(path, "utf8")) as T;

export const ofKind = (objects: readonly KubeObject[], kind: string) => objects.filter((object) => object.kind === kind);

export function named(objects: readonly KubeObject[], kind: string, name: string, namespace?: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace));
  if (!found) throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ""}${name}`);
  return found;
}

/** A deep copy to break on purpose. */
export const copy = <T>(value: T): T => structuredClone(value);
