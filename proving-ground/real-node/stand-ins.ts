// STAND-INS for the two upstream charts the helm approach installs and that
// cannot be fetched here: Traefik's chart (oci://ghcr.io/traefik/helm/traefik)
// and bitnami's PostgreSQL chart. Each is built from the values file the helm
// approach passes to the real chart (helm/traefik.values.yaml,
// helm/postgresql.values.yaml) plus the chart defaults those files rely on
// (written down below), so that what the values configure is what runs:
// Traefik (built from its Go module) with entrypoints websecure (443) and dicom
// (11112) on a LoadBalancer Service and the kubernetescrd provider;
// PostgreSQL 15 (Debian's) with database and user orthanc, passwords from the
// orthanc-db Secret, TLS, Service orthanc-db-postgresql, data on a PVC, the
// values' preStop hook (a fast shutdown).
// test/real-node/stand-ins.test.ts keeps each equal to its values file on those points.
// They are not the upstream charts: names, labels and output say "stand-in".
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { credentialSecrets, postgresqlService, valuesFiles } from "../../tasks/helm/releases.ts";

export const standInLabel = { "korthweb.io/stand-in": "true" };

/** What the Traefik chart (41.x) does by default and helm/traefik.values.yaml relies on: websecure 8443 → 443 with TLS, web 8000 → 80. */
export const traefikChartDefaults = {
  ports: {
    web: { port: 8000, exposedPort: 80, expose: { default: true }, protocol: "TCP", tls: false },
    websecure: { port: 8443, exposedPort: 443, expose: { default: true }, protocol: "TCP", tls: true },
  },
  serviceType: "LoadBalancer",
  provider: "kubernetescrd",
  runAsUser: 65532,
} as const;

interface TraefikPort {
  port: number;
  exposedPort: number;
  expose: { default: boolean };
  protocol: string;
  tls: boolean;
}

interface TraefikValues {
  deployment?: { replicas?: number };
  podDisruptionBudget?: { enabled?: boolean; maxUnavailable?: number };
  ports?: Record<string, Partial<TraefikPort> & { expose?: { default?: boolean } }>;
  resources?: Record<string, unknown>;
}

/** The entrypoints as the chart would configure them: defaults merged with the values file's ports. */
export function traefikEntrypoints(values: TraefikValues): Record<string, TraefikPort> {
  const merged: Record<string, TraefikPort> = structuredClone(traefikChartDefaults.ports) as unknown as Record<string, TraefikPort>;
  for (const [name, port] of Object.entries(values.ports ?? {})) {
    const base = merged[name] ?? { port: 0, exposedPort: 0, expose: { default: false }, protocol: "TCP", tls: false };
    merged[name] = { ...base, ...port, expose: { default: port.expose?.default ?? base.expose.default } } as TraefikPort;
  }
  return merged;
}

export const readValues = <T>(file: string): T => parse(readFileSync(file, "utf8")) as T;

const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** Values files layered as Helm layers them (-f a -f b): maps merge key by key, anything else from a later file replaces. */
export function mergeValues(layers: readonly Record<string, unknown>[]): Record<string, unknown> {
  const merge = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = isMap(value) && isMap(out[key]) ? merge(out[key] as Record<string, unknown>, value) : value;
    return out;
  };
  return layers.reduce<Record<string, unknown>>((merged, layer) => merge(merged, layer ?? {}), {});
}

export function traefikStandIn(image: string, values: TraefikValues = readValues(valuesFiles.traefik), settings = defaults): KubeObject[] {
  const namespace = settings.namespaces.traefik;
  const name = settings.releases.traefik;
  const labels = { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": `${name}-${namespace}`, ...standInLabel };
  const entrypoints = traefikEntrypoints(values);
  const args = [
    ...Object.entries(entrypoints).map(([entry, port]) => `--entryPoints.${entry}.address=:${port.port}/${port.protocol.toLowerCase()}`),
    ...Object.entries(entrypoints).filter(([, port]) => port.tls).map(([entry]) => `--entryPoints.${entry}.http.tls=true`),
    "--entryPoints.traefik.address=:8080/tcp",
    "--ping=true",
    "--providers.kubernetescrd",
    "--global.checkNewVersion=false",
    "--global.sendAnonymousUsage=false",
    "--log.level=INFO",
  ];
  const exposed = Object.entries(entrypoints).filter(([, port]) => port.expose.default);
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: standInLabel } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `${name}-${namespace}`, labels },
      rules: [
        { apiGroups: [""], resources: ["services", "secrets", "nodes", "configmaps"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["traefik.io"], resources: ["*"], verbs: ["get", "list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${name}-${namespace}`, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${name}-${namespace}` },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace, labels },
      spec: {
        replicas: values.deployment?.replicas ?? 1,
        selector: { matchLabels: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"] } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            securityContext: { runAsNonRoot: true, runAsUser: traefikChartDefaults.runAsUser, runAsGroup: traefikChartDefaults.runAsUser, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "traefik",
                image,
                imagePullPolicy: "Never",
                args,
                ports: [...Object.entries(entrypoints).map(([entry, port]) => ({ name: entry, containerPort: port.port, protocol: port.protocol })), { name: "traefik", containerPort: 8080, protocol: "TCP" }],
                readinessProbe: { httpGet: { path: "/ping", port: 8080 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: "/ping", port: 8080 }, periodSeconds: 10 },
                ...(values.resources ? { resources: values.resources } : {}),
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace, labels },
      spec: {
        type: traefikChartDefaults.serviceType,
        selector: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"] },
        ports: exposed.map(([entry, port]) => ({ name: entry, port: port.exposedPort, targetPort: entry, protocol: port.protocol })),
      },
    },
    ...(values.podDisruptionBudget?.enabled
      ? [
          {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name, namespace, labels },
            spec: {
              maxUnavailable: values.podDisruptionBudget.maxUnavailable ?? 1,
              selector: { matchLabels: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"] } },
            },
          },
        ]
      : []),
  ];
}

export interface PostgresqlValues {
  /** The manual approach names PostgreSQL's mesh identity (manual/04-postgresql/postgresql.values.yaml). */
  serviceAccount?: { create?: boolean; name?: string };
  auth: { database: string; username: string; existingSecret: string; secretKeys: { adminPasswordKey: string; userPasswordKey: string } };
  tls?: { enabled?: boolean; autoGenerated?: boolean };
  primary: { persistence: { enabled: boolean; size: string }; extendedConfiguration?: string; resources?: Record<string, unknown>; lifecycleHooks?: Record<string, unknown> };
}

/**
 * The stand-in image's PostgreSQL programs first on PATH, as bitnami's image has its own: the values' hooks
 * call pg_ctl by name. The folder is the one the image's entrypoint runs them from (its `bin=` line).
 */
function postgresqlPath(): string {
  const entrypoint = join(import.meta.dirname, "images", "postgresql-entrypoint.sh");
  const bin = /^bin=(\S+)$/m.exec(readFileSync(entrypoint, "utf8"))?.[1];
  if (bin === undefined) throw new Error(`${entrypoint}: no bin= line naming PostgreSQL's programs`);
  return `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
}

/** bitnami's mount point for the data volume; PGDATA is a folder inside it (initdb wants to own it). */
export const postgresqlDataMount = "/bitnami/postgresql";

export function postgresqlStandIn(image: string, values: PostgresqlValues = readValues(valuesFiles.postgresql), settings = defaults): KubeObject[] {
  const namespace = settings.namespaces.orthanc;
  const release = settings.releases.postgresql;
  const service = postgresqlService(settings);
  if (!values.tls?.enabled) throw new Error(`${valuesFiles.postgresql}: the stand-in reproduces tls.enabled: true only`);
  const selector = { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": release, "app.kubernetes.io/component": "primary" };
  const labels = { ...selector, ...standInLabel };
  const secret = values.auth.existingSecret;
  const fromSecret = (key: string) => ({ valueFrom: { secretKeyRef: { name: secret, key } } });
  const extended = `${service}-extended-configuration`;
  const account = values.serviceAccount?.create && values.serviceAccount.name ? values.serviceAccount.name : undefined;
  return [
    ...(account ? [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: account, namespace, labels }, automountServiceAccountToken: false }] : []),
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: extended, namespace, labels }, data: { "override.conf": values.primary.extendedConfiguration ?? "" } },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: service, namespace, labels },
      spec: { selector, ports: [{ name: "tcp-postgresql", port: 5432, targetPort: "tcp-postgresql" }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `${service}-hl`, namespace, labels },
      spec: { clusterIP: "None", publishNotReadyAddresses: true, selector, ports: [{ name: "tcp-postgresql", port: 5432, targetPort: "tcp-postgresql" }] },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: service, namespace, labels },
      spec: {
        replicas: 1,
        serviceName: `${service}-hl`,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            ...(account ? { serviceAccountName: account } : {}),
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "postgresql",
                image,
                imagePullPolicy: "Never",
                env: [
                  { name: "PATH", value: postgresqlPath() },
                  { name: "PGDATA", value: `${postgresqlDataMount}/data` },
                  { name: "POSTGRES_PASSWORD", ...fromSecret(values.auth.secretKeys.adminPasswordKey) },
                  { name: "POSTGRESQL_USERNAME", value: values.auth.username },
                  { name: "POSTGRESQL_PASSWORD", ...fromSecret(values.auth.secretKeys.userPasswordKey) },
                  { name: "POSTGRESQL_DATABASE", value: values.auth.database },
                  { name: "POSTGRESQL_TLS_CN", value: service },
                  { name: "POSTGRESQL_EXTRA_CONF_FILE", value: "/opt/korthweb-postgresql/override.conf" },
                ],
                ports: [{ name: "tcp-postgresql", containerPort: 5432 }],
                readinessProbe: { exec: { command: ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", values.auth.username, "-d", values.auth.database] }, periodSeconds: 2 },
                livenessProbe: { exec: { command: ["pg_isready", "-h", "127.0.0.1", "-p", "5432"] }, periodSeconds: 10, failureThreshold: 6 },
                ...(values.primary.resources ? { resources: values.primary.resources } : {}),
                // bitnami renders primary.lifecycleHooks as the container's lifecycle, as is.
                ...(values.primary.lifecycleHooks ? { lifecycle: values.primary.lifecycleHooks } : {}),
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [
                  { name: "data", mountPath: postgresqlDataMount },
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "run", mountPath: "/var/run/postgresql" },
                  { name: "extended", mountPath: "/opt/korthweb-postgresql", readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "tmp", emptyDir: {} },
              { name: "run", emptyDir: {} },
              { name: "extended", configMap: { name: extended } },
            ],
          },
        },
        volumeClaimTemplates: values.primary.persistence.enabled
          ? [{ metadata: { name: "data", labels: standInLabel }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: values.primary.persistence.size } } } }]
          : [],
      },
    },
  ];
}

/** The Secret the PostgreSQL stand-in reads (made by the helm approach's step 2). */
export const postgresqlSecret = credentialSecrets.database;
