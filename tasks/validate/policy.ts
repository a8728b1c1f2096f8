// Policy for our own workloads: Pod Security "restricted", resources, probes,
// pinned images, and no credentials in ConfigMaps, env literals or committed
// Secrets. Works on plain objects; paths are reported as JSON paths.
import type { KubeObject } from "../lib/manifests.ts";
import { isLiteralCredential, scanText } from "./credentials.ts";
import type { Finding } from "./finding.ts";

type Issue = Omit<Finding, "file" | "object">;
type Json = Record<string, unknown>;

const asObject = (value: unknown): Json | undefined =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
const asArray = (value: unknown): Json[] => (Array.isArray(value) ? (value.filter((item) => asObject(item)) as Json[]) : []);
const get = (value: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((node, key) => asObject(node)?.[key], value);

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

/** Volume types Pod Security "restricted" allows. */
const allowedVolumeTypes = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

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
    if (podSpec) issues.push(...checkPodSpec(podSpec, specPath.join("."), longRunning.has(kind)));
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
  const podContext = asObject(spec.securityContext) ?? {};

  for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (spec[flag] === true) issues.push({ path: at(flag), rule: "pod-security", message: `${flag} is forbidden` });
  }
  asArray(spec.volumes).forEach((volume, i) => {
    const type = Object.keys(volume).find((name) => name !== "name");
    if (type && !allowedVolumeTypes.has(type)) {
      issues.push({ path: at(`volumes[${i}].${type}`), rule: "pod-security", message: `volume type ${type} is not allowed under "restricted"` });
    }
  });

  const podNonRoot = podContext.runAsNonRoot === true;
  const podSeccomp = get(podContext, "seccompProfile", "type");
  if (podContext.runAsUser === 0) issues.push({ path: at("securityContext.runAsUser"), rule: "pod-security", message: "runs as root (uid 0)" });

  const groups: [string, Json[]][] = [
    ["initContainers", asArray(spec.initContainers)],
    ["containers", asArray(spec.containers)],
    ["ephemeralContainers", asArray(spec.ephemeralContainers)],
  ];
  for (const [group, containers] of groups) {
    containers.forEach((container, i) => {
      const c = (path: string) => at(`${group}[${i}].${path}`);
      const context = asObject(container.securityContext) ?? {};
      if (context.privileged === true) issues.push({ path: c("securityContext.privileged"), rule: "pod-security", message: "privileged containers are forbidden" });
      if (context.allowPrivilegeEscalation !== false) {
        issues.push({ path: c("securityContext.allowPrivilegeEscalation"), rule: "pod-security", message: "must be false" });
      }
      if (context.runAsUser === 0) issues.push({ path: c("securityContext.runAsUser"), rule: "pod-security", message: "runs as root (uid 0)" });
      if (!(context.runAsNonRoot === true || (podNonRoot && context.runAsNonRoot !== false))) {
        issues.push({ path: c("securityContext.runAsNonRoot"), rule: "pod-security", message: "must be true (here or in the pod securityContext)" });
      }
      const seccomp = get(context, "seccompProfile", "type") ?? podSeccomp;
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
        issues.push({ path: c("securityContext.seccompProfile.type"), rule: "pod-security", message: "must be RuntimeDefault or Localhost (here or in the pod)" });
      }
      const drop = get(context, "capabilities", "drop");
      if (!Array.isArray(drop) || !drop.includes("ALL")) {
        issues.push({ path: c("securityContext.capabilities.drop"), rule: "pod-security", message: 'must include "ALL"' });
      }
      const add = get(context, "capabilities", "add");
      if (Array.isArray(add)) {
        for (const capability of add) {
          if (capability !== "NET_BIND_SERVICE") {
            issues.push({ path: c("securityContext.capabilities.add"), rule: "pod-security", message: `capability ${String(capability)} may not be added (only NET_BIND_SERVICE)` });
          }
        }
      }
      asArray(container.ports).forEach((port, p) => {
        if (port.hostPort !== undefined && port.hostPort !== 0) issues.push({ path: c(`ports[${p}].hostPort`), rule: "pod-security", message: "hostPort is forbidden" });
      });

      if (group === "ephemeralContainers") return;
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
      asArray(container.env).forEach((entry, e) => {
        if (typeof entry.name === "string" && isLiteralCredential(entry.name, entry.value)) {
          issues.push({ path: c(`env[${e}].value`), rule: "credentials", message: `env ${entry.name} has a literal secret value; use valueFrom.secretKeyRef` });
        }
      });
    });
  }
  return issues;
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
