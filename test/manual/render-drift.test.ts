// The manual approach's Orthanc YAML is helm/orthanc's output, committed: it
// must equal a fresh render, and the check must notice when it does not.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { readObjects } from "../../tasks/manual/apply.ts";
import { files } from "../../tasks/manual/layout.ts";
import { prometheusCertDir } from "../../proving-ground/checks/manual/mesh.ts";
import { driftError, driftedFiles, renderChart, renderFiles, splitByStep } from "../../tasks/manual/render.ts";
import { scratchDir } from "../helpers/scratch.ts";

const extraValues = (text: string) => {
  const file = join(scratchDir("korthweb-manual-"), "extra.yaml");
  writeFileSync(file, text);
  return file;
};

describe("committed manual YAML vs helm/orthanc", () => {
  it("every generated file equals a fresh render of the chart with manual/05-orthanc/orthanc.values.yaml", async () => {
    const drifted = driftedFiles(await renderFiles());
    expect(drifted.map((path) => relative(repoRoot, path)), drifted.length ? driftError(drifted).message + " — run `make manual-render`" : "").toEqual([]);
  });

  it("notices drift: a chart value change makes orthanc.yaml differ, and the message says how to regenerate", async () => {
    const changed = await renderFiles([files.orthancValues, extraValues("orthanc:\n  aet: PACS01\n")]);
    const drifted = driftedFiles(changed);
    expect(drifted).toContain(files.orthanc);
    expect(drifted).not.toContain(files.routing);
    expect(driftError(drifted).hint).toContain("make manual-render");
    // A file that is missing counts as drifted too.
    expect(driftedFiles(new Map([[files.orthanc, "x"]]), () => undefined)).toEqual([files.orthanc]);
  });

  it("`node tasks/manual/render.ts --check` exits 0 on the committed tree", () => {
    const out = execFileSync(process.execPath, ["tasks/manual/render.ts", "--check"], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out).toBe("");
  });

  it("refuses to commit the chart's helm test hook (kubectl would run it as an ordinary Pod)", async () => {
    const objects = await renderChart([files.orthancValues, extraValues("tests:\n  enabled: true\n")]);
    expect(() => splitByStep(objects)).toThrow(/Pod orthanc\/orthanc-test .* is a Helm hook/);
  });

  it("holds no Secret and no key material; the certificate is only referenced", () => {
    for (const path of [files.orthanc, files.routing, files.orthancServiceMonitor]) {
      const objects = readObjects(path);
      expect(objects.filter((o) => o.kind === "Secret" || o.kind === "Certificate"), path).toEqual([]);
    }
    const gateway = readObjects(files.routing).find((o) => o.kind === "Gateway") as any;
    expect(gateway.spec.servers.map((s: any) => s.tls.credentialName)).toEqual(["orthanc-tls", "orthanc-tls"]);
  });

  it("splits by step: workload in 05, Gateway and VirtualServices in 06, ServiceMonitor in 08 (scraped over mesh mTLS)", () => {
    expect(readObjects(files.orthanc).map((o) => o.kind).sort()).toEqual([
      "ConfigMap", "ConfigMap", "ConfigMap", "CronJob", "Deployment", "NetworkPolicy", "NetworkPolicy", "NetworkPolicy", "NetworkPolicy",
      "PersistentVolumeClaim", "PodDisruptionBudget", "Service", "ServiceAccount", "ServiceAccount",
    ]);
    expect(readObjects(files.routing).map((o) => o.kind)).toEqual(["Gateway", "VirtualService", "VirtualService"]);
    const [monitor] = readObjects(files.orthancServiceMonitor) as any[];
    expect(monitor.kind).toBe("ServiceMonitor");
    expect(monitor.spec.endpoints[0]).toMatchObject({
      port: "http-web",
      path: "/tools/metrics-prometheus",
      scheme: "https",
      tlsConfig: { caFile: `${prometheusCertDir}/root-cert.pem`, certFile: `${prometheusCertDir}/cert-chain.pem`, keyFile: `${prometheusCertDir}/key.pem` },
      basicAuth: { username: { name: "orthanc-admin", key: "username" }, password: { name: "orthanc-admin", key: "password" } },
    });
  });
});
