// The environment of the chart's Orthanc container, as Kubernetes would give
// it: literal values as rendered, Secret keys from the values this stack
// generated, ConfigMap keys from the rendered ConfigMaps, and the few pod
// fields Orthanc might reference. Anything else is an error naming the variable.
import { TaskError } from "../../tasks/lib/errors.ts";

export type EnvSource =
  | { kind: "value"; value: string }
  | { kind: "secret"; secret: string; key: string; optional: boolean }
  | { kind: "configMap"; configMap: string; key: string; optional: boolean }
  | { kind: "field"; fieldPath: string };

export interface EnvSpec {
  name: string;
  source: EnvSource;
}

interface KubeEnvVar {
  name?: unknown;
  value?: unknown;
  valueFrom?: {
    secretKeyRef?: { name?: unknown; key?: unknown; optional?: unknown };
    configMapKeyRef?: { name?: unknown; key?: unknown; optional?: unknown };
    fieldRef?: { fieldPath?: unknown };
    resourceFieldRef?: unknown;
  };
}

/** Reads `env` of one container of a rendered Deployment into specs. */
export function containerEnvSpecs(container: { name?: unknown; env?: unknown; envFrom?: unknown }, where: string): EnvSpec[] {
  if (Array.isArray(container.envFrom) && container.envFrom.length > 0) {
    throw new TaskError(`${where} uses envFrom, which the local stack does not read`, {
      code: "invalidValues",
      hint: "list each variable under env (value or valueFrom.secretKeyRef), as the chart's contract says",
    });
  }
  const list = (container.env ?? []) as KubeEnvVar[];
  if (!Array.isArray(list)) throw new TaskError(`${where}: env is not a list`, { code: "invalidValues" });
  return list.map((item, index) => {
    const name = typeof item.name === "string" ? item.name : "";
    if (!name) throw new TaskError(`${where}: env[${index}] has no name`, { code: "invalidValues" });
    const from = item.valueFrom;
    if (!from) return { name, source: { kind: "value", value: typeof item.value === "string" ? item.value : String(item.value ?? "") } };
    const secret = from.secretKeyRef;
    if (secret && typeof secret.name === "string" && typeof secret.key === "string") {
      return { name, source: { kind: "secret", secret: secret.name, key: secret.key, optional: secret.optional === true } };
    }
    const configMap = from.configMapKeyRef;
    if (configMap && typeof configMap.name === "string" && typeof configMap.key === "string") {
      return { name, source: { kind: "configMap", configMap: configMap.name, key: configMap.key, optional: configMap.optional === true } };
    }
    if (from.fieldRef && typeof from.fieldRef.fieldPath === "string") return { name, source: { kind: "field", fieldPath: from.fieldRef.fieldPath } };
    throw new TaskError(`${where}: env ${name} takes its value from a source the local stack cannot provide (${Object.keys(from).join(", ")})`, {
      code: "invalidValues",
      hint: "use a literal value or valueFrom.secretKeyRef / configMapKeyRef / fieldRef (metadata.name, metadata.namespace, status.podIP)",
    });
  });
}

export interface EnvSources {
  secret(name: string, key: string): string;
  configMap(name: string, key: string): string | undefined;
  /** Pod fields: metadata.name, metadata.namespace, status.podIP, … */
  fields: Readonly<Record<string, string>>;
}

/** Kubernetes expands $(VAR) in literal values with variables defined earlier in the list; $$ escapes. */
function expandDependent(value: string, earlier: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) => {
    if (all === "$$") return "$";
    return name !== undefined && name in earlier ? earlier[name]! : all;
  });
}

/** The environment a container with these specs gets. */
export function resolveEnv(specs: readonly EnvSpec[], sources: EnvSources): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { name, source } of specs) {
    switch (source.kind) {
      case "value":
        env[name] = expandDependent(source.value, env);
        break;
      case "secret":
        env[name] = sources.secret(source.secret, source.key);
        break;
      case "configMap": {
        const value = sources.configMap(source.configMap, source.key);
        if (value === undefined && !source.optional) {
          throw new TaskError(`env ${name} reads ConfigMap ${source.configMap} key ${source.key}, which the chart does not render`, { code: "invalidValues" });
        }
        if (value !== undefined) env[name] = value;
        break;
      }
      case "field": {
        const value = sources.fields[source.fieldPath];
        if (value === undefined) {
          throw new TaskError(`env ${name} reads pod field ${source.fieldPath}, which the local stack does not provide`, {
            code: "invalidValues",
            hint: `supported: ${Object.keys(sources.fields).join(", ")}`,
          });
        }
        env[name] = value;
        break;
      }
    }
  }
  return env;
}
