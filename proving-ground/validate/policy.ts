// Policy for our own workloads: Pod Security (pod-security.ts), resources,
// probes, pinned images, and no credentials in ConfigMaps, env literals or
// committed Secrets. Works on plain objects; paths are reported as JSON paths.
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { isLiteralCredential, scanEmbedded, scanText } from "./credentials.ts";
import type { Issue } from "./finding.ts";
import { asArray, asObject, get, type Json } from "./json.ts";
import { checkPodSecurity } from "./pod-security.ts";

/** Where the pod spec sits inside each workload kind. */
const podSpecPaths: Record<string, string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** Workloads that run for good and so need readiness and liveness probes. */
const longRunning = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);

export interface PolicyOptions {
  /** The object comes from a file committed to Git (not rendered at install time). */
  committed: boolean;
}

export function checkPolicy(object: KubeObject, options: PolicyOptions): Issue[] {
  const kind = typeof object.kind === "string" ? object.kind : "";
  const issues: Issue[] = [];
  const specPath = podSpecPaths[kind];
  if (specPath) {
    const podSpec = asObject(get(object, ...specPath));
    // The pod's metadata is the spec's sibling (object metadata for a Pod, template metadata otherwise).
    const metadataPath = [...specPath.slice(0, -1), "metadata", "annotations"];
    const metadata = { annotations: asObject(get(object, ...metadataPath)) ?? {}, path: metadataPath.join(".") };
    if (podSpec) issues.push(...checkPodSecurity(podSpec, specPath.join("."), metadata), ...checkPodSpec(podSpec, specPath.join("."), longRunning.has(kind)));
  }
  if (kind === "ConfigMap") issues.push(...checkConfigMap(object));
  if (kind === "Secret" && options.committed) {
    const data = { ...asObject(object.data), ...asObject(object.stringData) };
    if (Object.values(data).some((value) => typeof value === "string" && value !== "")) {
      issues.push({ path: "data", rule: "credentials", message: "a Secret with data is committed to Git; create it at install time (task or SOPS) instead" });
    }
  }
  return issues;
}

function checkConfigMap(object: KubeObject): Issue[] {
  const issues: Issue[] = [];
  for (const field of ["data", "binaryData"] as const) {
    for (const [key, value] of Object.entries(asObject(object[field]) ?? {})) {
      if (typeof value !== "string") continue;
      for (const hit of scanText(key, value)) {
        issues.push({
          path: `${field}[${JSON.stringify(key)}]${hit.path ? ` → ${hit.path}` : ""}`,
          rule: "credentials",
          message: `ConfigMap ${hit.reason}; keep secrets in a Secret and reference them`,
        });
      }
    }
  }
  return issues;
}

function checkPodSpec(spec: Json, base: string, needsProbes: boolean): Issue[] {
  const issues: Issue[] = [];
  const at = (path: string) => `${base}.${path}`;
  for (const group of ["initContainers", "containers"] as const) {
    asArray(spec[group]).forEach((container, i) => {
      const c = (path: string) => at(`${group}[${i}].${path}`);
      issues.push(...checkImage(container.image, c("image")));
      for (const [kind, names] of [["requests", ["cpu", "memory"]], ["limits", ["cpu", "memory"]]] as const) {
        for (const name of names) {
          if (get(container, "resources", kind, name) === undefined) {
            issues.push({ path: c(`resources.${kind}.${name}`), rule: "resources", message: `resources.${kind}.${name} must be set` });
          }
        }
      }
      if (group === "containers" && needsProbes) {
        for (const probe of ["readinessProbe", "livenessProbe"]) {
          if (!asObject(container[probe])) issues.push({ path: c(probe), rule: "probes", message: `${probe} must be set` });
        }
      }
      asArray(container.env).forEach((entry, e) => issues.push(...checkEnv(entry, c(`env[${e}].value`))));
    });
  }
  return issues;
}

/** A literal env value: a credential by its name, or one embedded in it whatever the name (a URL with a password, a config with a password key). */
function checkEnv(entry: Json, path: string): Issue[] {
  const { name, value } = entry;
  if (typeof name !== "string" || typeof value !== "string") return [];
  if (isLiteralCredential(name, value)) return [{ path, rule: "credentials", message: `env ${name} has a literal secret value; use valueFrom.secretKeyRef` }];
  return scanEmbedded(name, value).map((hit) => ({
    path: `${path}${hit.path ? ` → ${hit.path}` : ""}`,
    rule: "credentials" as const,
    message: `env ${name} ${hit.reason}; reference a Secret instead (valueFrom.secretKeyRef, then $(VAR))`,
  }));
}

function checkImage(image: unknown, path: string): Issue[] {
  if (typeof image !== "string" || image === "") return [{ path, rule: "image", message: "image must be set" }];
  if (image.includes("@sha256:")) return [];
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
  if (!tag) return [{ path, rule: "image", message: `image "${image}" has no tag; pin a version` }];
  if (tag === "latest") return [{ path, rule: "image", message: `image "${image}" uses :latest; pin a version` }];
  return [];
}
