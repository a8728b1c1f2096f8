// Every port an ingress exposes on its LoadBalancer must carry TLS. These
// answer "which exposed ports do not?" for the two ingresses the approaches
// use (Traefik for helm, the Istio gateway for manual and gitops); `make audit`
// and the approaches' tests assert "none" on the committed files.
import type { KubeObject } from "../../tasks/lib/manifests.ts";

export interface ServicePort {
  port: number;
  targetPort?: number | string;
}

interface GatewayServer {
  port: { number: number; protocol: string };
  tls?: { mode?: string };
}

/**
 * Istio gateway: each Service port must reach a Gateway server that speaks TLS
 * (protocol HTTPS, or TLS) with a tls block. Returns the exposed ports that do not.
 */
export function plainGatewayPorts(servicePorts: readonly ServicePort[], gateways: readonly KubeObject[]): number[] {
  const servers = gateways.flatMap((gateway) => ((gateway.spec as { servers?: GatewayServer[] })?.servers ?? []));
  const tlsPorts = new Set(servers.filter((server) => ["HTTPS", "TLS"].includes(server.port.protocol) && server.tls?.mode).map((server) => server.port.number));
  return servicePorts.filter((port) => !tlsPorts.has(Number(port.targetPort ?? port.port))).map((port) => port.port);
}

/** A Traefik entrypoint as the chart's `ports` values describe it. */
export interface TraefikPort {
  exposedPort?: number;
  expose?: { default?: boolean };
  tls?: { enabled?: boolean };
}

/**
 * What Traefik's chart 41.x sets in `ports` by default (its values.yaml): web (80) and websecure
 * (443, entrypoint TLS on) exposed on the Service; the dashboard (traefik, 8080) and metrics (9100) not.
 */
export const traefikChartPorts: Record<string, TraefikPort> = {
  traefik: { exposedPort: 8080, expose: { default: false } },
  web: { exposedPort: 80, expose: { default: true } },
  websecure: { exposedPort: 443, expose: { default: true }, tls: { enabled: true } },
  metrics: { exposedPort: 9100, expose: { default: false } },
};

/** Entrypoints on Traefik's Service: the chart's defaults with our values over them. */
export function exposedEntryPoints(ours: Record<string, TraefikPort>): Record<string, TraefikPort> {
  const merged: Record<string, TraefikPort> = {};
  for (const name of new Set([...Object.keys(traefikChartPorts), ...Object.keys(ours)])) {
    const base = traefikChartPorts[name] ?? {};
    const mine = ours[name] ?? {};
    merged[name] = { ...base, ...mine, expose: { ...base.expose, ...mine.expose }, tls: { ...base.tls, ...mine.tls } };
  }
  return Object.fromEntries(Object.entries(merged).filter(([, port]) => port.expose?.default === true));
}

/**
 * Exposed entrypoints where a connection could be plain: neither the entrypoint
 * terminates TLS nor does every route on it (and at least one route must exist).
 */
export function plainEntryPoints(exposed: Record<string, TraefikPort>, routes: readonly KubeObject[]): string[] {
  return Object.entries(exposed)
    .filter(([name, port]) => {
      if (port.tls?.enabled) return false;
      const on = routes.filter((route) => ((route.spec as { entryPoints?: string[] })?.entryPoints ?? []).includes(name));
      const terminated = (route: KubeObject) => {
        const tls = (route.spec as { tls?: { secretName?: string; passthrough?: boolean } })?.tls;
        return Boolean(tls && (tls.secretName || tls.passthrough));
      };
      return on.length === 0 || !on.every(terminated);
    })
    .map(([name]) => name);
}
