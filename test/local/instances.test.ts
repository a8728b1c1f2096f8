// Several Orthanc instances in the local stack, without starting them: the
// setting, each instance's files and configuration (the first's plus its
// ports, references kept), the proxy configuration balancing over them
// (checked by haproxy itself), and reading haproxy's log per server.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaults } from "../../tasks/lib/settings.ts";
import { instancePortsOverlay, orthancInstance, orthancInstances } from "../../proving-ground/local/instances.ts";
import { extraOrthancInstances, localLayout, orthancInstancePaths } from "../../proving-ground/local/layout.ts";
import { differingPaths, parseTemplate } from "../../tasks/lib/orthanc-config.ts";
import { haproxyConfig, haproxyExecutable, servedBy } from "../../proving-ground/local/proxy.ts";
import { orthancFacts, runtimeWithOverlay, type OrthancRuntime } from "../../proving-ground/local/runtime.ts";
import { ScratchStack } from "../../proving-ground/local/scratch-stack.ts";
import { loadLocalSettings } from "../../proving-ground/local/settings.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-instances-"));

const configText = `{
  "HttpPort": 8042,
  "DicomPort": 4242,
  "RegisteredUsers": { "\${ADMIN_USER}": "\${ADMIN_PASSWORD}" },
  "PostgreSQL": { "Host": "127.0.0.1", "Port": \${PG_PORT}, "Database": "orthanc", "Username": "orthanc", "Password": "\${PG_PASSWORD}", "Lock": false }
}
`;
const env = { ADMIN_USER: "admin", ADMIN_PASSWORD: "secret1", PG_PORT: "55432", PG_PASSWORD: "secret2" };

function runtime(): OrthancRuntime {
  const resolved = JSON.parse(configText.replaceAll(/\$\{(\w+)\}/g, (_all, name: keyof typeof env) => env[name])) as Record<string, never>;
  return { configText, env, resolved, facts: orthancFacts(resolved) };
}

describe("several Orthanc instances in the local stack", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads --orthanc-instances (or its env variable), 1 by default, and refuses nonsense", () => {
    expect(loadLocalSettings(defaults, {}, {}).orthancInstances).toBe(1);
    expect(loadLocalSettings(defaults, { "orthanc-instances": "2" }, {}).orthancInstances).toBe(2);
    expect(loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_ORTHANC_INSTANCES: "3" }).orthancInstances).toBe(3);
    expect(() => loadLocalSettings(defaults, { "orthanc-instances": "0" }, {})).toThrow('invalid --orthanc-instances "0": expected a whole number from 1 to 8');
    expect(() => loadLocalSettings(defaults, {}, { KORTHWEB_LOCAL_ORTHANC_INSTANCES: "two" })).toThrow(/invalid KORTHWEB_LOCAL_ORTHANC_INSTANCES "two"/);
  });

  it("gives instance N its own folder and Orthanc's ports + N-1; everything else, references included, stays the first's", () => {
    const layout = localLayout(join(dir, "layout"));
    const first = runtime();
    expect(orthancInstancePaths(layout, 1)).toBe(layout.orthanc);
    expect(orthancInstancePaths(layout, 3).config).toBe(join(layout.root, "orthanc-3", "orthanc.json"));
    expect(instancePortsOverlay(first, 1)).toEqual({});
    const [one, two, three] = orthancInstances(layout, first, 3);
    expect(one!.runtime).toBe(first);
    expect([two!.name, three!.name]).toEqual(["Orthanc 2", "Orthanc 3"]);
    expect(three!.runtime.facts).toMatchObject({ httpPort: 8044, dicomPort: 4244, database: first.facts.database, login: first.facts.login });
    expect(differingPaths(parseTemplate(first.configText, "first"), parseTemplate(two!.runtime.configText, "second"))).toEqual(["DicomPort", "HttpPort"]);
    expect(two!.runtime.configText).toContain('"Port": ${PG_PORT}');
    expect(two!.runtime.configText).toContain('"Password": "${PG_PASSWORD}"');
    expect(orthancInstance(layout, first, 2).paths.dir).toBe(join(layout.root, "orthanc-2"));
  });

  it("applies a test's overlay (e.g. Lock true) to the template, keeping references", () => {
    const locked = runtimeWithOverlay(runtime(), { PostgreSQL: { Lock: true } }, "test");
    expect((locked.resolved.PostgreSQL as Record<string, unknown>).Lock).toBe(true);
    expect(differingPaths(parseTemplate(configText, "a"), parseTemplate(locked.configText, "b"))).toEqual(["PostgreSQL.Lock"]);
    expect(locked.facts.database.password).toBe("secret2");
  });

  it("finds the folders of instances ≥ 2, whatever runs", () => {
    const layout = localLayout(join(dir, "found"));
    for (const name of ["orthanc", "orthanc-2", "orthanc-10", "orthanc-x", "proxy"]) mkdirSync(join(layout.root, name), { recursive: true });
    expect(extraOrthancInstances(layout)).toEqual([2, 10]);
    expect(extraOrthancInstances(localLayout(join(dir, "nothing-here")))).toEqual([]);
  });

  it("configures haproxy as before for one Orthanc, and round robin over several; haproxy accepts both", () => {
    const pemFile = join(dir, "proxy.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test", "-keyout", `${pemFile}.key`, "-out", `${pemFile}.crt`], { stdio: "ignore" });
    execFileSync("sh", ["-c", `cat ${pemFile}.crt ${pemFile}.key > ${pemFile}`]);
    const ports = { https: 18443, dicom: 18112 };
    const single = haproxyConfig({ ports, orthanc: { httpPort: 8042, dicomPort: 4242 }, pemFile });
    expect(single).toContain("backend orthanc_dicom\n  mode tcp\n  server orthanc 127.0.0.1:4242\n");
    expect(single).not.toContain("balance");
    const double = haproxyConfig({ ports, orthanc: [{ httpPort: 8042, dicomPort: 4242 }, { httpPort: 8043, dicomPort: 4243 }], pemFile });
    expect(double).toContain("backend orthanc_http\n  mode http\n  balance roundrobin\n  option redispatch 1\n  server orthanc 127.0.0.1:8042\n  server orthanc-2 127.0.0.1:8043\n");
    expect(double).toContain("  server orthanc-2 127.0.0.1:4243\n");
    expect(() => haproxyConfig({ ports, orthanc: [], pemFile })).toThrow(/at least one Orthanc/);
    for (const [name, text] of [["single", single], ["double", double]] as const) {
      const file = join(dir, `${name}.cfg`);
      writeFileSync(file, text);
      // haproxy's own check (it switches to user haproxy only when started for real).
      execFileSync(haproxyExecutable, ["-c", "-q", "-f", file]);
    }
  });

  it("counts from haproxy's log which server took each request or session", () => {
    const log = [
      '127.0.0.1:1 [25/Nov/2026:03:38:38.311] https~ orthanc_http/orthanc 0/0/0/3/3 200 463 - - ---- 3/1/0/0/0 0/0 "GET /changes?last HTTP/1.1"',
      '127.0.0.1:2 [25/Nov/2026:03:38:38.312] https~ orthanc_http/orthanc-2 0/0/0/3/3 200 463 - - ---- 3/1/0/0/0 0/0 "GET /system HTTP/1.1"',
      "127.0.0.1:3 [25/Nov/2026:03:38:38.313] dicom_tls~ orthanc_dicom/orthanc-2 2/0/15 352 -- 2/2/1/1/0 0/0",
      "127.0.0.1:4 [25/Nov/2026:03:38:38.314] dicom_tls~ orthanc_dicom/orthanc-2 2/0/15 352 -- 2/2/1/1/0 0/0",
      "[WARNING] something else",
    ].join("\n");
    expect(Object.fromEntries(servedBy(log))).toEqual({ "orthanc_http/orthanc": 1, "orthanc_http/orthanc-2": 1, "orthanc_dicom/orthanc-2": 2 });
  });

  it("prepares a scratch stack's settings in its own folder and ports, without environment variables", () => {
    const ports = { https: 28443, dicom: 28112, postgresql: 28432, orthancHttp: 28042, orthancDicom: 28242 };
    const stack = ScratchStack.prepare({ dir: join(dir, "scratch"), ports, orthancInstances: 2 });
    expect(stack.settings).toMatchObject({ dir: join(dir, "scratch", "local"), orthancInstances: 2, ports: { https: 28443, dicom: 28112, postgresql: 28432 } });
    expect(stack.settings.valuesFiles.at(-1)).toBe(join(dir, "scratch", "orthanc-ports.values.yaml"));
    expect(stack.processes()).toEqual({ postgresql: undefined, orthanc: undefined, proxy: undefined });
  });
});
