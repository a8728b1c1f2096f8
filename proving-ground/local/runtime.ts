// What Orthanc runs with, read back from the render step's files: the
// effective configuration, the container's environment (Secret keys filled
// from the stack's generated values), and the facts the other parts need
// (ports, AE title, the login, the database) read from the configuration as
// Orthanc will see it after substitution.
import { existsSync, readFileSync } from "node:fs";
import { TaskError } from "../../tasks/lib/errors.ts";
import { parseManifests } from "../../tasks/lib/manifests.ts";
import { resolveEnv, type EnvSpec } from "./container-env.ts";
import type { LocalLayout } from "./layout.ts";
import { applyOverlay, parseTemplate, resolveTemplate, stringifyTemplate, type JsonObject } from "../../tasks/lib/orthanc-config.ts";
import { SecretStore } from "./secret-store.ts";
import type { LocalSettings } from "./settings.ts";

export interface OrthancFacts {
  httpPort: number;
  dicomPort: number;
  aet: string;
  checksCalledAet: boolean;
  /** The first RegisteredUsers entry: what smoke and people log in with. */
  login: { username: string; password: string };
  database: { name: string; username: string; password: string; ssl: boolean };
}

export interface OrthancRuntime {
  configText: string;
  /** The container env only (without what the stack adds to run the process). */
  env: Record<string, string>;
  resolved: JsonObject;
  facts: OrthancFacts;
}

function configMapsOf(manifestsFile: string): Map<string, Record<string, string>> {
  const maps = new Map<string, Record<string, string>>();
  for (const { object } of parseManifests(readFileSync(manifestsFile, "utf8"), manifestsFile)) {
    if (object.kind === "ConfigMap" && typeof object.metadata?.name === "string") maps.set(object.metadata.name, (object.data ?? {}) as Record<string, string>);
  }
  return maps;
}

const asNumber = (value: unknown, fallback: number, key: string): number => {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw new TaskError(`orthanc.json ${key} is ${JSON.stringify(value)} once substituted; expected a whole number`, { code: "invalidValues" });
};

export function orthancFacts(config: JsonObject): OrthancFacts {
  const users = config.RegisteredUsers;
  const first = users && typeof users === "object" && !Array.isArray(users) ? Object.entries(users)[0] : undefined;
  if (!first || typeof first[1] !== "string" || first[0] === "" || first[1] === "") {
    throw new TaskError("orthanc.json has no usable RegisteredUsers entry once substituted (empty name or password?)", {
      code: "invalidValues",
      hint: "the chart should fill RegisteredUsers from a Secret through ${VAR} references set in the container env",
    });
  }
  const pg = config.PostgreSQL as JsonObject | undefined;
  const text = (key: string) => {
    const value = pg?.[key];
    if (typeof value !== "string" || value === "") {
      throw new TaskError(`orthanc.json PostgreSQL.${key} is empty once substituted`, { code: "invalidValues" });
    }
    return value;
  };
  return {
    httpPort: asNumber(config.HttpPort, 8042, "HttpPort"),
    dicomPort: asNumber(config.DicomPort, 4242, "DicomPort"),
    aet: typeof config.DicomAet === "string" ? config.DicomAet : "ORTHANC",
    checksCalledAet: config.DicomCheckCalledAet === true,
    login: { username: first[0], password: first[1] },
    database: { name: text("Database"), username: text("Username"), password: text("Password"), ssl: pg?.EnableSsl === true },
  };
}

export function loadRuntime(layout: LocalLayout, settings: LocalSettings): OrthancRuntime {
  for (const file of [layout.orthanc.config, layout.orthanc.envSpec, layout.manifests]) {
    if (!existsSync(file)) throw new TaskError(`${file} is missing`, { hint: "run the render step first: make local-up" });
  }
  const configText = readFileSync(layout.orthanc.config, "utf8");
  const specs = JSON.parse(readFileSync(layout.orthanc.envSpec, "utf8")) as EnvSpec[];
  const store = new SecretStore(layout.secretsDir);
  const configMaps = configMapsOf(layout.manifests);
  const env = resolveEnv(specs, {
    secret: (name, key) => store.get(name, key),
    configMap: (name, key) => configMaps.get(name)?.[key],
    fields: {
      "metadata.name": `${settings.release}-local`,
      "metadata.namespace": settings.namespace,
      "spec.nodeName": "localhost",
      "status.podIP": "127.0.0.1",
      "status.hostIP": "127.0.0.1",
    },
  });
  const resolved = resolveTemplate(configText, env, layout.orthanc.config);
  return { configText, env, resolved, facts: orthancFacts(resolved) };
}

/**
 * The same runtime with more configuration on top (e.g. other ports for a
 * second instance, or PostgreSQL "Lock": true in a test): the overlay is
 * applied to the template, so ${VAR} references stay references.
 */
export function runtimeWithOverlay(runtime: OrthancRuntime, overlay: JsonObject, source: string): OrthancRuntime {
  const configText = stringifyTemplate(applyOverlay(parseTemplate(runtime.configText, source), overlay));
  const resolved = resolveTemplate(configText, runtime.env, source);
  return { configText, env: runtime.env, resolved, facts: orthancFacts(resolved) };
}
