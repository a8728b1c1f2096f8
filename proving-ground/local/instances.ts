// Several Orthanc processes on the one database, as replicas of the chart's
// Deployment are: the same rendered configuration, the same local overlay and
// the same env, plus other ports for instance N ≥ 2 (Orthanc's own ports + N-1)
// since here they share one address. Sharing the database works because the
// chart sets PostgreSQL "Lock": false (true makes the second one exit).
import { mkdirSync, writeFileSync } from "node:fs";
import { orthancInstancePaths, type LocalLayout, type OrthancPaths } from "./layout.ts";
import type { JsonObject } from "../../tasks/lib/orthanc-config.ts";
import { runtimeWithOverlay, type OrthancRuntime } from "./runtime.ts";

export interface OrthancInstance {
  /** 1, 2, … */
  number: number;
  /** For messages: "Orthanc" for the first, "Orthanc 2" for the second. */
  name: string;
  paths: OrthancPaths;
  runtime: OrthancRuntime;
}

export const instanceName = (instance: number): string => (instance === 1 ? "Orthanc" : `Orthanc ${instance}`);

/** What instance N adds to the effective configuration: its ports (none for instance 1). */
export function instancePortsOverlay(first: OrthancRuntime, instance: number): JsonObject {
  if (instance === 1) return {};
  return { HttpPort: first.facts.httpPort + instance - 1, DicomPort: first.facts.dicomPort + instance - 1 };
}

export function orthancInstance(layout: LocalLayout, first: OrthancRuntime, instance: number): OrthancInstance {
  const paths = orthancInstancePaths(layout, instance);
  const runtime = instance === 1 ? first : runtimeWithOverlay(first, instancePortsOverlay(first, instance), `${layout.orthanc.config} + ports of ${instanceName(instance)}`);
  return { number: instance, name: instanceName(instance), paths, runtime };
}

/** Instances 1…count of the stack. */
export function orthancInstances(layout: LocalLayout, first: OrthancRuntime, count: number): OrthancInstance[] {
  return Array.from({ length: count }, (_, i) => orthancInstance(layout, first, i + 1));
}

/** Writes instance N's overlay file: the stack's overlay plus its ports, for people reading the folder. */
export function writeInstanceOverlay(first: OrthancRuntime, instance: OrthancInstance, baseOverlay: JsonObject): void {
  if (instance.number === 1) return;
  mkdirSync(instance.paths.dir, { recursive: true, mode: 0o755 });
  writeFileSync(instance.paths.overlay, `${JSON.stringify({ ...baseOverlay, ...instancePortsOverlay(first, instance.number) }, null, 2)}\n`);
}
