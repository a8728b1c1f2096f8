// Settings of the local stack: where its state lives, which chart and values
// it renders, and the ports of the parts we run ourselves. Defaults, then
// environment variables, then flags — like the kernel's settings.
import { TaskError } from "../../tasks/lib/errors.ts";
import { fromRoot, localStackDir } from "../../tasks/lib/paths.ts";
import type { Settings } from "../../tasks/lib/settings.ts";
import type { FlagSpec, FlagValues } from "../../tasks/lib/task.ts";

export interface LocalPorts {
  /** The TLS terminator's HTTPS port (stands in for the gateway's 443). */
  https: number;
  /** The TLS terminator's DICOM-over-TLS port (stands in for the gateway's 11112). */
  dicom: number;
  /** The private PostgreSQL server. */
  postgresql: number;
}

export interface LocalSettings {
  /** Folder holding everything the stack makes: data, logs, PID files, credentials. */
  dir: string;
  /** The chart rendered for the Orthanc configuration. */
  chart: string;
  /** Values for that chart, for this stack: proving-ground/local/values.yaml, then any in KORTHWEB_LOCAL_VALUES. */
  valuesFiles: string[];
  release: string;
  namespace: string;
  domain: string;
  ports: LocalPorts;
  /** How many Orthanc processes share the database behind the proxy (default 1; the chart sets PostgreSQL "Lock": false). */
  orthancInstances: number;
}

interface PortSetting {
  flag: string;
  env: string;
  key: keyof LocalPorts;
  fallback: number;
  description: string;
}

const portSettings: readonly PortSetting[] = [
  { flag: "https-port", env: "KORTHWEB_LOCAL_HTTPS_PORT", key: "https", fallback: 443, description: "HTTPS port of the TLS terminator (default 443)" },
  { flag: "dicom-port", env: "KORTHWEB_LOCAL_DICOM_PORT", key: "dicom", fallback: 11112, description: "DICOM-TLS port of the TLS terminator (default 11112)" },
  { flag: "pg-port", env: "KORTHWEB_LOCAL_PG_PORT", key: "postgresql", fallback: 55432, description: "port of the private PostgreSQL (default 55432)" },
];

const instancesEnv = "KORTHWEB_LOCAL_ORTHANC_INSTANCES";
/** More Orthanc processes than this on one small machine helps nobody; it also bounds the ports they take. */
export const maxOrthancInstances = 8;

/** The flags every local-stack task accepts (next to the kernel's common ones). */
export const localFlags: Record<string, FlagSpec> = {
  ...Object.fromEntries(
    portSettings.map((item) => [item.flag, { type: "string", description: `${item.description} [env ${item.env}]` } satisfies FlagSpec]),
  ),
  "orthanc-instances": {
    type: "string",
    description: `Orthanc processes on the one database, balanced by the proxy (default 1; instance N uses Orthanc's ports + N-1) [env ${instancesEnv}]`,
  },
};

/** How to change a port, for error messages ("port 443 is in use … → use --https-port"). */
export function portHint(key: keyof LocalPorts): string {
  const item = portSettings.find((setting) => setting.key === key)!;
  return `pick another with --${item.flag} N (or ${item.env}=N), e.g. \`make local-up ARGS="--${item.flag} ${item.fallback + 8000}"\``;
}

function parsePort(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new TaskError(`invalid ${name} "${raw}": expected a TCP port number between 1 and 65535`, { code: "usage" });
  }
  return value;
}

export function loadLocalSettings(settings: Settings, flags: FlagValues = {}, env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const ports = {} as LocalPorts;
  for (const item of portSettings) {
    const flag = flags[item.flag];
    const fromEnv = env[item.env];
    if (typeof flag === "string") ports[item.key] = parsePort(flag, `--${item.flag}`);
    else if (fromEnv) ports[item.key] = parsePort(fromEnv, item.env);
    else ports[item.key] = item.fallback;
  }
  const instancesRaw = typeof flags["orthanc-instances"] === "string" ? flags["orthanc-instances"] : env[instancesEnv];
  const orthancInstances = instancesRaw ? Number(instancesRaw) : 1;
  if (!Number.isInteger(orthancInstances) || orthancInstances < 1 || orthancInstances > maxOrthancInstances) {
    const name = typeof flags["orthanc-instances"] === "string" ? "--orthanc-instances" : instancesEnv;
    throw new TaskError(`invalid ${name} "${instancesRaw}": expected a whole number from 1 to ${maxOrthancInstances}`, { code: "usage" });
  }
  const clash = portSettings.find((a) => portSettings.some((b) => a !== b && ports[a.key] === ports[b.key]));
  if (clash) throw new TaskError(`--${clash.flag} ${ports[clash.key]} is also used by another port of the local stack`, { code: "usage" });
  return {
    dir: localStackDir(env),
    // A chart under development can be tried without touching helm/orthanc.
    chart: env.KORTHWEB_LOCAL_CHART ? fromRoot(env.KORTHWEB_LOCAL_CHART) : fromRoot("helm", "orthanc"),
    // More values files (comma-separated) after ours, e.g. other Orthanc ports for a second stack.
    valuesFiles: [fromRoot("proving-ground", "local", "values.yaml"), ...(env.KORTHWEB_LOCAL_VALUES ?? "").split(",").filter(Boolean).map((file) => fromRoot(file))],
    release: settings.releases.orthanc,
    namespace: settings.namespaces.orthanc,
    domain: settings.domain,
    ports,
    orthancInstances,
  };
}
