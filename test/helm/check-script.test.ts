// The chart's Python helpers against real servers: Orthanc (Debian's 1.10)
// running the chart's rendered configuration behind haproxy terminating TLS
// with the chart's generated certificate, as Traefik would. files/check.py
// (the `helm test` check) must pass and must name each failure; files/probe.py
// (the exec probes) must tell a working Orthanc from a refusing one.
// Everything runs in a private network namespace (`unshare --net`): the
// servers listen on their real ports there and are reachable from nowhere else.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { ensurePackages, localPackages } from "../../proving-ground/local/packages.ts";
import { as, find, render } from "../helpers/chart.ts";

/** The local stack's packages (Orthanc, haproxy, …) plus ip for the private network namespace, installed the project's way. */
const ensureBinaries = () =>
  ensurePackages([
    ...localPackages,
    { name: "iproute2", why: "ip, for this test's private network namespace" },
    { name: "python3", why: "runs the chart's Python scripts, as the Orthanc image does" },
  ]);

const b64 = (value: string) => Buffer.from(value, "base64").toString("utf8");

/** Output of the harness, split into sections "=== name" … "rc=N". */
function sections(output: string): Map<string, { text: string; rc: number }> {
  const result = new Map<string, { text: string; rc: number }>();
  for (const block of output.split(/^=== /m).slice(1)) {
    const [name = "", ...lines] = block.split("\n");
    const rcLine = lines.findLast((line) => line.startsWith("rc="));
    result.set(name.trim(), { text: lines.join("\n"), rc: Number(rcLine?.slice(3) ?? "-1") });
  }
  return result;
}

describe("files/check.py and files/probe.py against Orthanc behind a TLS terminator", () => {
  let work: string;
  let results: Map<string, { text: string; rc: number }>;
  let log: string;

  beforeAll(async () => {
    await ensureBinaries();
    work = mkdtempSync(join(tmpdir(), "korthweb-check-"));
    const objects = await render();
    const tls = as<Record<string, string>>(find(objects, "Secret", "orthanc-tls").data);
    const otherCa = as<Record<string, string>>(find(await render(), "Secret", "orthanc-ca").data)["tls.crt"]!;
    // The rendered configuration, minus what needs PostgreSQL (the local stack covers that): SQLite in a folder.
    const config = JSON.parse(as(find(objects, "ConfigMap", "orthanc-config").data)["orthanc.json"]) as Record<string, unknown>;
    delete config.Plugins;
    delete config.PostgreSQL;
    config.StorageDirectory = config.IndexDirectory = join(work, "db");
    mkdirSync(join(work, "config"));
    writeFileSync(join(work, "config", "orthanc.json"), JSON.stringify(config, null, 2));
    writeFileSync(join(work, "leaf.pem"), `${b64(tls["tls.crt"]!)}${b64(tls["tls.key"]!)}`);
    writeFileSync(join(work, "ca.crt"), b64(tls["ca.crt"]!));
    writeFileSync(join(work, "other-ca.crt"), b64(otherCa));
    writeFileSync(
      join(work, "haproxy.cfg"),
      [
        "defaults",
        "  mode tcp",
        "  timeout connect 5s",
        "  timeout client 30s",
        "  timeout server 30s",
        ...[
          ["web", 443, 8042],
          ["dicom", 11112, 4242],
        ].flatMap(([name, port, target]) => [
          `frontend ${name}`,
          `  bind 127.0.0.1:${port} ssl crt ${join(work, "leaf.pem")} ssl-min-ver TLSv1.2`,
          `  default_backend ${name}`,
          `backend ${name}`,
          `  server orthanc 127.0.0.1:${target}`,
        ]),
        "",
      ].join("\n"),
    );
    const check = `python3 ${fromRoot("helm/orthanc/files/check.py")} --address 127.0.0.1 --web-host web.korthweb.test --dicom-host dicom.korthweb.test`;
    const probe = `python3 ${fromRoot("helm/orthanc/files/probe.py")}`;
    const script = `
set -u
ip link set lo up
export ORTHANC_ADMIN_USERNAME=admin ORTHANC_ADMIN_PASSWORD=Secret123 ORTHANC_DB_PASSWORD=unused TCP_NODELAY=1
Orthanc ${work}/config/ > ${work}/orthanc.log 2>&1 & orthanc=$!
haproxy -db -f ${work}/haproxy.cfg > ${work}/haproxy.log 2>&1 & haproxy=$!
trap 'kill $orthanc $haproxy 2>/dev/null; wait' EXIT
for i in $(seq 1 100); do ${probe} /tools/now 2>/dev/null && break; sleep 0.2; done
echo "=== probe-readiness"; ${probe} '/changes?last' 2>&1; echo "rc=$?"
echo "=== probe-wrong-password"; ORTHANC_ADMIN_PASSWORD=nope ${probe} '/changes?last' 2>&1; echo "rc=$?"
echo "=== check"; ${check} --ca ${work}/ca.crt 2>&1; echo "rc=$?"
echo "=== check-wrong-ca"; ${check} --ca ${work}/other-ca.crt 2>&1; echo "rc=$?"
echo "=== check-wrong-password"; ORTHANC_ADMIN_PASSWORD=nope ${check} --ca ${work}/ca.crt 2>&1; echo "rc=$?"
echo "=== check-wrong-aet"; ${check} --ca ${work}/ca.crt --aet PACS 2>&1; echo "rc=$?"
echo "=== check-wrong-host"; python3 ${fromRoot("helm/orthanc/files/check.py")} --address 127.0.0.1 --web-host web.other.test --dicom-host dicom.korthweb.test --ca ${work}/ca.crt 2>&1; echo "rc=$?"
echo "=== check-no-ca"; ${check} 2>&1; echo "rc=$?"
`;
    const unshare = process.getuid?.() === 0 ? ["--net"] : ["--user", "--map-root-user", "--net"];
    const run = spawnSync("unshare", [...unshare, "bash", "-c", script], { encoding: "utf8", timeout: 90_000 });
    log = `${run.stdout}\n${run.stderr}`;
    results = sections(run.stdout);
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const section = (name: string) => {
    const found = results.get(name);
    if (!found) throw new Error(`no section ${name} in harness output:\n${log}`);
    return found;
  };

  it("probe.py: 200 on /changes?last with the env credentials, failure with the reason otherwise", () => {
    expect(section("probe-readiness").rc, log).toBe(0);
    expect(section("probe-wrong-password")).toMatchObject({ rc: 1, text: expect.stringContaining("GET /changes?last: HTTP 401") });
  });

  it("check.py passes through the TLS terminator: HTTPS 200/401, C-ECHO without SNI, wrong AE title rejected", () => {
    const { rc, text } = section("check");
    expect(rc, text).toBe(0);
    expect(text).toMatch(/^ok {3}HTTPS web\.korthweb\.test via 127\.0\.0\.1:443: TLSv1\.[23], with credentials 200, without credentials 401$/m);
    expect(text).toMatch(/^ok {3}DICOM TLS C-ECHO ORTHANC via 127\.0\.0\.1:11112: TLSv1\.[23], C-ECHO status 0 in \d+ ms, released$/m);
    expect(text).toMatch(/^ok {3}DICOM wrong called AE title rejected: called AE NOT-ORTHANC rejected \(reason 7\)$/m);
  });

  it("check.py names each failure", () => {
    expect(section("check-wrong-ca")).toMatchObject({ rc: 1, text: expect.stringContaining("certificate not trusted on 127.0.0.1:443") });
    expect(section("check-wrong-ca").text).toContain("FAIL DICOM TLS C-ECHO ORTHANC via 127.0.0.1:11112: certificate not trusted");
    expect(section("check-wrong-password")).toMatchObject({ rc: 1, text: expect.stringContaining("with credentials: HTTP 401, expected 200 (wrong credentials?)") });
    expect(section("check-wrong-aet")).toMatchObject({ rc: 1, text: expect.stringContaining("association rejected (result 1, source 1, reason 7): is PACS the server's AE title?") });
    expect(section("check-wrong-host")).toMatchObject({ rc: 1, text: expect.stringContaining("Hostname mismatch") });
    expect(section("check-no-ca")).toMatchObject({ rc: 2, text: expect.stringContaining("give --ca FILE, or --insecure") });
  });
});
