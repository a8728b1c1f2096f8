// What helm/orthanc's configuration holds, where a test must do more than
// render and inspect (those checks are helm-unittest suites in helm/orthanc/tests/,
// run by test/helm/unittest.test.ts): orthanc.json parsed as JSON (the contract
// the local stack relies on, deep merges, every ${VAR} fed by the env), the
// validator's credential scan run over every ConfigMap, and checksums compared
// across renders, and the one contract helm-unittest cannot state (a Secret's
// exact set of keys).
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { scanText } from "../../proving-ground/validate/credentials.ts";
import { as, find, ofKind, render } from "../helpers/chart.ts";

const deployment = (objects: readonly KubeObject[]) => find(objects, "Deployment", "orthanc");
const container = (objects: readonly KubeObject[]) => as(deployment(objects).spec).template.spec.containers.find((c: { name: string }) => c.name === "orthanc");
const orthancJson = (objects: readonly KubeObject[], release = "orthanc") =>
  JSON.parse(as(find(objects, "ConfigMap", `${release}-config`).data)["orthanc.json"]) as Record<string, unknown>;

describe("helm/orthanc with default values", () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render();
  });

  it("CONTRACT: orthanc.json is complete, multi-replica safe, and every ${VAR} in it comes from the container env", () => {
    const config = orthancJson(objects);
    expect(config).toMatchObject({
      AuthenticationEnabled: true,
      RemoteAccessAllowed: true,
      DicomCheckCalledAet: true,
      MetricsEnabled: true,
      SaveJobs: false,
      DatabaseServerIdentifier: "korthweb-orthanc",
      DicomAet: "ORTHANC",
      DicomPort: 4242,
      HttpPort: 8042,
      RegisteredUsers: { "${ORTHANC_ADMIN_USERNAME}": "${ORTHANC_ADMIN_PASSWORD}" },
      PostgreSQL: { EnableIndex: true, EnableStorage: true, Lock: false, EnableSsl: true, Host: "orthanc-db-postgresql", Port: 5432, Password: "${ORTHANC_DB_PASSWORD}" },
      Plugins: ["/usr/share/orthanc/plugins-available/libOrthancPostgreSQLIndex.so", "/usr/share/orthanc/plugins-available/libOrthancPostgreSQLStorage.so"],
    });
    const text = as(find(objects, "ConfigMap", "orthanc-config").data)["orthanc.json"] as string;
    const used = new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]));
    const env = container(objects).env as { name: string; value?: string; valueFrom?: { secretKeyRef?: unknown } }[];
    for (const name of used) {
      const entry = env.find((e) => e.name === name);
      expect(entry, `env ${name}`).toBeDefined();
      expect(entry!.value !== undefined || entry!.valueFrom?.secretKeyRef !== undefined, `env ${name} is a value or a secretKeyRef`).toBe(true);
    }
    expect([...used].sort()).toEqual(["ORTHANC_ADMIN_PASSWORD", "ORTHANC_ADMIN_USERNAME", "ORTHANC_DB_PASSWORD"]);
  });

  it("CONTRACT: <release>-tls holds exactly tls.crt, tls.key and ca.crt (helm-unittest cannot count a map's keys; its suite checks the rest)", () => {
    expect(Object.keys(as(find(objects, "Secret", "orthanc-tls").data)).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
  });

  it("no credential in any ConfigMap (the validator's credential scan finds nothing)", () => {
    const configMaps = ofKind(objects, "ConfigMap");
    expect(configMaps.map((c) => c.metadata?.name).sort()).toEqual(["orthanc-ca", "orthanc-config", "orthanc-scripts"]);
    for (const configMap of configMaps) {
      for (const [key, value] of Object.entries(as<Record<string, string>>(configMap.data))) {
        expect(scanText(key, value), `${String(configMap.metadata?.name)}/${key}`).toEqual([]);
        expect(value).not.toMatch(/PRIVATE KEY/);
      }
    }
  });

  it("the credential scan would catch a literal password in orthanc.json (the check above can fail)", async () => {
    const leaky = await render({ values: { orthanc: { config: { RegisteredUsers: { admin: "hunter2" } } } } });
    const text = as(find(leaky, "ConfigMap", "orthanc-config").data)["orthanc.json"] as string;
    expect(scanText("orthanc.json", text).map((hit) => hit.path)).toContain("RegisteredUsers.admin");
  });
});

describe("helm/orthanc configuration changes", () => {
  it("checksum/config changes when the configuration changes, and only then", async () => {
    const checksum = async (values?: Record<string, unknown>) =>
      as(deployment(await render(values ? { values } : {})).spec).template.metadata.annotations["checksum/config"] as string;
    const base = await checksum();
    expect(await checksum({ replicaCount: 3 })).toBe(base);
    expect(await checksum({ orthanc: { config: { StableAge: 30 } } })).not.toBe(base);
    expect(await checksum({ orthanc: { aet: "PACS" } })).not.toBe(base);
  });

  it("orthanc.config deep-merges: maps merge, false and 0 override defaults, null removes a key", async () => {
    const config = orthancJson(
      await render({
        values: { orthanc: { config: { DicomCheckCalledAet: false, MetricsEnabled: false, PostgreSQL: { IndexConnectionsCount: 0 }, ExecuteLuaEnabled: null, StableAge: 5 } } },
      }),
    );
    expect(config.DicomCheckCalledAet).toBe(false);
    expect(config.MetricsEnabled).toBe(false);
    expect(config.StableAge).toBe(5);
    expect(config).not.toHaveProperty("ExecuteLuaEnabled");
    expect(config.PostgreSQL).toMatchObject({ IndexConnectionsCount: 0, EnableIndex: true, Password: "${ORTHANC_DB_PASSWORD}" });
  });

  it("sslMode disable turns the plugin's EnableSsl off", async () => {
    expect(orthancJson(await render({ values: { database: { sslMode: "disable" } } })).PostgreSQL).toMatchObject({ EnableSsl: false });
  });
});
