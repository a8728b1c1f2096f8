// The stand-ins for Traefik's and bitnami's PostgreSQL charts must run what
// helm/traefik.values.yaml and helm/postgresql.values.yaml configure: each point
// they reproduce is read from the values file here, independently of how the
// stand-in builds it, and compared.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import { fromRoot, repoRoot } from "../../tasks/lib/paths.ts";
import { loadFluxTree } from "../../tasks/gitops/tree.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { mergeValues, postgresqlStandIn, standInLabel, traefikChartDefaults, traefikStandIn } from "../../proving-ground/real-node/stand-ins.ts";
import { placementSettings, tenantDatabase } from "../../proving-ground/real-node/postgresql.ts";

const traefikValues = parse(readFileSync(fromRoot("helm", "traefik.values.yaml"), "utf8"));
const postgresqlValues = parse(readFileSync(fromRoot("helm", "postgresql.values.yaml"), "utf8"));
const orthancValues = parse(readFileSync(fromRoot("helm", "orthanc", "values.yaml"), "utf8"));

const find = (objects: KubeObject[], kind: string, name?: string) => {
  const found = objects.find((object) => object.kind === kind && (name === undefined || object.metadata?.name === name));
  if (!found) throw new Error(`no ${kind} ${name ?? ""} in the stand-in`);
  return found as KubeObject & { spec: any; data?: Record<string, string> };
};

describe("Traefik stand-in (for oci://ghcr.io/traefik/helm/traefik)", () => {
  const objects = traefikStandIn("korthweb.local/traefik:test");
  const service = find(objects, "Service", "traefik");
  const deployment = find(objects, "Deployment", "traefik");
  const container = deployment.spec.template.spec.containers[0];

  it("exposes on a LoadBalancer exactly the entrypoints the values file exposes, at their exposed ports", () => {
    expect(service.spec.type).toBe("LoadBalancer");
    const expected = new Map<string, number>();
    for (const [name, defaults] of Object.entries(traefikChartDefaults.ports)) if (defaults.expose.default) expected.set(name, defaults.exposedPort);
    for (const [name, port] of Object.entries<any>(traefikValues.ports)) {
      const exposed = port.expose?.default ?? (traefikChartDefaults.ports as any)[name]?.expose.default ?? false;
      if (exposed) expected.set(name, port.exposedPort ?? (traefikChartDefaults.ports as any)[name].exposedPort);
      else expected.delete(name);
    }
    expect(new Map(service.spec.ports.map((port: any) => [port.name, port.port]))).toEqual(expected);
    // The two ports the helm approach is reached on.
    expect(expected).toEqual(new Map([["websecure", 443], ["dicom", 11112]]));
  });

  it("listens on the values file's container ports; websecure terminates TLS, dicom is plain TCP (TLS on the IngressRouteTCP)", () => {
    expect(container.args).toContain(`--entryPoints.dicom.address=:${traefikValues.ports.dicom.port}/tcp`);
    expect(container.args).toContain("--entryPoints.websecure.http.tls=true");
    expect(container.args.some((arg: string) => arg.startsWith("--entryPoints.dicom.http.tls"))).toBe(false);
    expect(container.args).toContain("--providers.kubernetescrd");
  });

  it("runs the values file's replicas, resources and disruption budget", () => {
    expect(deployment.spec.replicas).toBe(traefikValues.deployment.replicas);
    expect(container.resources).toEqual(traefikValues.resources);
    expect(find(objects, "PodDisruptionBudget", "traefik").spec.maxUnavailable).toBe(traefikValues.podDisruptionBudget.maxUnavailable);
  });

  it("is where the orthanc chart's routes, NetworkPolicy and helm test expect Traefik", () => {
    expect(deployment.metadata?.namespace).toBe(orthancValues.ingress.traefik.namespace);
    expect(service.metadata?.name).toBe(orthancValues.ingress.traefik.service);
    expect(container.args).toContain(`--entryPoints.${orthancValues.ingress.traefik.webEntryPoint}.address=:8443/tcp`);
    expect(container.args.some((arg: string) => arg.startsWith(`--entryPoints.${orthancValues.ingress.traefik.dicomEntryPoint}.address=`))).toBe(true);
  });

  it("says it is a stand-in on every object", () => {
    for (const object of objects) expect(object.metadata?.labels, `${object.kind} ${object.metadata?.name}`).toMatchObject(standInLabel);
  });
});

describe("PostgreSQL stand-in (for bitnami's chart)", () => {
  const objects = postgresqlStandIn("korthweb.local/postgresql:test");
  const statefulSet = find(objects, "StatefulSet");
  const container = statefulSet.spec.template.spec.containers[0];
  const env = new Map<string, any>(container.env.map((item: any) => [item.name, item.value ?? item.valueFrom]));

  it("serves Service orthanc-db-postgresql on 5432, as the orthanc chart's database.host expects", () => {
    const service = find(objects, "Service", orthancValues.database.host);
    expect(service.spec.ports[0].port).toBe(orthancValues.database.port);
  });

  it("creates the values file's database and user, passwords from the values file's Secret and keys", () => {
    expect(env.get("POSTGRESQL_DATABASE")).toBe(postgresqlValues.auth.database);
    expect(env.get("POSTGRESQL_USERNAME")).toBe(postgresqlValues.auth.username);
    expect(env.get("POSTGRESQL_PASSWORD")).toEqual({ secretKeyRef: { name: postgresqlValues.auth.existingSecret, key: postgresqlValues.auth.secretKeys.userPasswordKey } });
    expect(env.get("POSTGRES_PASSWORD")).toEqual({ secretKeyRef: { name: postgresqlValues.auth.existingSecret, key: postgresqlValues.auth.secretKeys.adminPasswordKey } });
    expect(postgresqlValues.auth.database).toBe(orthancValues.database.name);
    expect(postgresqlValues.auth.username).toBe(orthancValues.database.user);
  });

  it("turns TLS on (the values file's tls.enabled) and refuses a values file without it", () => {
    expect(postgresqlValues.tls.enabled).toBe(true);
    expect(env.get("POSTGRESQL_TLS_CN")).toBe(orthancValues.database.host);
    expect(() => postgresqlStandIn("x", { ...postgresqlValues, tls: { enabled: false } })).toThrow(/tls.enabled/);
  });

  it("runs the values file's preStop hook (PostgreSQL's fast shutdown) with pg_ctl on PATH, from the image's own PostgreSQL", () => {
    expect(postgresqlValues.primary.lifecycleHooks.preStop.exec.command).toEqual(["pg_ctl", "stop", "--mode=fast", "--no-wait"]);
    expect(container.lifecycle).toEqual(postgresqlValues.primary.lifecycleHooks);
    const entrypoint = readFileSync(fromRoot("proving-ground", "real-node", "images", "postgresql-entrypoint.sh"), "utf8");
    const bin = /^bin=(\S+)$/m.exec(entrypoint)?.[1];
    expect(bin).toMatch(/^\/usr\/lib\/postgresql\/\d+\/bin$/);
    expect(env.get("PATH").split(":")[0]).toBe(bin);
  });

  it("keeps data on a PVC of the values file's size, with its extended configuration and resources", () => {
    expect(statefulSet.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(postgresqlValues.primary.persistence.size);
    expect(find(objects, "ConfigMap").data?.["override.conf"]).toBe(postgresqlValues.primary.extendedConfiguration);
    expect(container.resources).toEqual(postgresqlValues.primary.resources);
  });

  it("carries the labels the orthanc chart's NetworkPolicy lets Orthanc reach", () => {
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(orthancValues.networkPolicy.database.podLabels);
  });

  it("passes Pod Security restricted (it runs in the orthanc namespace) and says it is a stand-in", () => {
    const pod = statefulSet.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    for (const object of objects) expect(object.metadata?.labels, `${object.kind} ${object.metadata?.name}`).toMatchObject(standInLabel);
  });
});

describe("PostgreSQL stand-in for the manual and gitops approaches", () => {
  const manualValues = parse(readFileSync(fromRoot("manual", "04-postgresql", "postgresql.values.yaml"), "utf8"));

  it("manual: the helm values with the manual values on top (Helm's layering), in namespace orthanc, under the manual values' service account", () => {
    const merged = mergeValues([postgresqlValues, manualValues]) as any;
    expect(merged.auth).toEqual(postgresqlValues.auth);
    expect(merged.serviceAccount).toEqual(manualValues.serviceAccount);
    const objects = postgresqlStandIn("korthweb.local/postgresql:test", merged, placementSettings({ what: "manual", namespace: "orthanc", release: "orthanc-db", values: merged }));
    const account = find(objects, "ServiceAccount", manualValues.serviceAccount.name);
    expect(account.metadata?.namespace).toBe("orthanc");
    expect(find(objects, "StatefulSet").spec.template.spec.serviceAccountName).toBe(manualValues.serviceAccount.name);
    // The helm approach's values create no account: the stand-in uses the namespace's default one there.
    expect(postgresqlStandIn("x").some((object) => object.kind === "ServiceAccount")).toBe(false);
  });

  it("Helm's layering: maps merge key by key, lists and scalars from the later file replace", () => {
    expect(mergeValues([{ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: { e: 2 } }])).toEqual({ a: { b: 1, c: [3] }, d: { e: 2 } });
  });

  it("gitops: one per tenant, from the tenant's PostgreSQL HelmRelease, in the tenant's namespace, where its Orthanc release connects", async () => {
    const tree = await loadFluxTree(repoRoot);
    expect(tree.tenants.map((tenant) => tenant.name).sort()).toEqual(["bhc", "mhr"]);
    for (const tenant of tree.tenants) {
      const placement = tenantDatabase(tenant);
      const helmRelease = tenant.releases.find((release) => release.ref.name === "postgresql")!;
      expect(placement).toMatchObject({ namespace: tenant.name, release: helmRelease.releaseName, values: helmRelease.values });
      const objects = postgresqlStandIn("korthweb.local/postgresql:test", placement.values, placementSettings(placement));
      for (const object of objects) expect(object.metadata?.namespace, `${object.kind} ${object.metadata?.name}`).toBe(tenant.name);
      const service = find(objects, "Service", orthancValues.database.host);
      expect(service.spec.ports[0].port).toBe(orthancValues.database.port);
      const env = new Map<string, any>(find(objects, "StatefulSet").spec.template.spec.containers[0].env.map((item: any) => [item.name, item.value ?? item.valueFrom]));
      expect(env.get("POSTGRESQL_PASSWORD")).toEqual({ secretKeyRef: { name: (helmRelease.values as any).auth.existingSecret, key: (helmRelease.values as any).auth.secretKeys.userPasswordKey } });
    }
  });

  it("gitops: a tenant whose Orthanc release connects elsewhere than its PostgreSQL release serves is refused, naming both", async () => {
    const tree = await loadFluxTree(repoRoot);
    const tenant = structuredClone(tree.tenants[0]!);
    const orthanc = tenant.releases.find((release) => release.chart.chart === "./helm/orthanc")!;
    orthanc.values = { ...orthanc.values, database: { host: "elsewhere" } };
    expect(() => tenantDatabase(tenant)).toThrow(/Orthanc connects to elsewhere, but its PostgreSQL release orthanc-db serves orthanc-db-postgresql/);
  });
});
