// The three Helm releases of the helm approach, and what each one needs from
// the settings: chart, pinned version, namespace, values. Install, uninstall,
// wait and summary steps all read them from here.
import type { ReleaseOptions } from "../lib/helm.ts";
import { fromRoot } from "../lib/paths.ts";
import { pins, type Settings } from "../lib/settings.ts";

/** Secrets the install creates (random, alphanumeric) and the chart and PostgreSQL read. */
export const credentialSecrets = {
  /** The Orthanc user: keys username, password. */
  admin: "orthanc-admin",
  /** PostgreSQL: keys password (user orthanc) and postgres-password (superuser). */
  database: "orthanc-db",
} as const;

export const valuesFiles = {
  traefik: fromRoot("helm", "traefik.values.yaml"),
  postgresql: fromRoot("helm", "postgresql.values.yaml"),
};

export const orthancChart = fromRoot("helm", "orthanc");

export function traefikRelease(settings: Settings): ReleaseOptions {
  return {
    release: settings.releases.traefik,
    namespace: settings.namespaces.traefik,
    chart: pins.traefikChart.chart,
    version: pins.traefikChart.version,
    valuesFiles: [valuesFiles.traefik],
  };
}

export function postgresqlRelease(settings: Settings): ReleaseOptions {
  return {
    release: settings.releases.postgresql,
    namespace: settings.namespaces.orthanc,
    chart: pins.postgresqlChart.chart,
    version: pins.postgresqlChart.version,
    valuesFiles: [valuesFiles.postgresql],
    createNamespace: false,
  };
}

/** The Service bitnami's chart names after the release: "<release>-postgresql". */
export const postgresqlService = (settings: Settings) => `${settings.releases.postgresql}-postgresql`;

/** Values the settings decide (domain, where the database and Traefik are); everything else is the chart's default. */
export function orthancSettingsValues(settings: Settings): Record<string, string> {
  return {
    domain: settings.domain,
    "database.host": postgresqlService(settings),
    "database.existingSecret": credentialSecrets.database,
    "auth.existingSecret": credentialSecrets.admin,
    "ingress.provider": "traefik",
    "ingress.traefik.namespace": settings.namespaces.traefik,
    "ingress.traefik.service": settings.releases.traefik,
    "networkPolicy.database.podLabels.app\\.kubernetes\\.io/instance": settings.releases.postgresql,
  };
}

export function orthancRelease(settings: Settings): ReleaseOptions {
  return {
    release: settings.releases.orthanc,
    namespace: settings.namespaces.orthanc,
    chart: orthancChart,
    set: orthancSettingsValues(settings),
    createNamespace: false,
  };
}
