// The stand-in enforces what the chart renders: the TLS policy and client
// authentication of each Traefik route's TLSOption, mapped to haproxy, for
// tlsPolicy 1.2 and 1.3 and every dicom.clientAuth; a render it cannot map is
// an error naming the option.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ingressPolicy } from "../../proving-ground/local/ingress-policy.ts";
import { bindOptions, haproxyConfig, haproxyExecutable } from "../../proving-ground/local/proxy.ts";
import { render } from "../helpers/chart.ts";
import { scratchDir } from "../helpers/scratch.ts";

const policyOf = async (values: Record<string, unknown> = {}) => ingressPolicy(await render({ values }), "orthanc", "test render");

describe("the stand-in's TLS policy, from the chart's TLSOptions", () => {
  it("defaults: TLS 1.2 with the six BCP 195 suites on both ports, a client certificate required on DICOM only", async () => {
    const policy = await policyOf();
    expect(policy.web).toEqual({ minVersion: "TLSv1.2", ciphers: expect.arrayContaining(["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"]), clientAuth: "none" });
    expect(policy.web.ciphers).toHaveLength(6);
    expect(policy.dicom).toEqual({ ...policy.web, clientAuth: "required" });
  });

  it("tlsPolicy 1.3: TLS 1.3 only on both ports; haproxy accepts the configuration", async () => {
    const policy = await policyOf({ tlsPolicy: { minVersion: "1.3" } });
    expect(policy.web).toEqual({ minVersion: "TLSv1.3", ciphers: [], clientAuth: "none" });
    expect(policy.dicom.minVersion).toBe("TLSv1.3");
    const dir = scratchDir("korthweb-policy-");
    const pem = join(dir, "proxy.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=t", "-keyout", `${pem}.key`, "-out", `${pem}.crt`], { stdio: "ignore" });
    execFileSync("sh", ["-c", `cat ${pem}.crt ${pem}.key > ${pem}`]);
    const config = haproxyConfig({ ports: { https: 18443, dicom: 18112 }, orthanc: { httpPort: 8042, dicomPort: 4242 }, pemFile: pem, policy, modalityCaFile: `${pem}.crt` });
    expect(config).toContain(`bind 127.0.0.1:18112 ssl crt ${pem} ssl-min-ver TLSv1.3 ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256 ca-file ${pem}.crt verify required`);
    writeFileSync(join(dir, "haproxy.cfg"), config);
    execFileSync(haproxyExecutable, ["-c", "-q", "-f", join(dir, "haproxy.cfg")]);
  });

  it("clientAuth optional and none map to verify optional and no client check", async () => {
    expect((await policyOf({ dicom: { clientAuth: "optional" } })).dicom.clientAuth).toBe("optional");
    const none = await policyOf({ dicom: { clientAuth: "none" } });
    expect(none.dicom.clientAuth).toBe("none");
    expect(bindOptions(none.dicom, "x.pem", undefined, "DICOM")).not.toContain("verify");
    expect(bindOptions({ ...none.dicom, clientAuth: "optional" }, "x.pem", "ca.crt", "DICOM")).toContain("ca-file ca.crt verify optional");
  });

  it("a suite or version it cannot map is an error naming the TLSOption", async () => {
    const objects = await render();
    const option = objects.find((o) => o.kind === "TLSOption" && o.metadata?.name === "orthanc-dicom")!;
    (option.spec as { cipherSuites: string[] }).cipherSuites.push("TLS_RSA_WITH_AES_128_CBC_SHA");
    expect(() => ingressPolicy(objects, "orthanc", "test render")).toThrow(/TLSOption orthanc-dicom \(test render\): cipher suite TLS_RSA_WITH_AES_128_CBC_SHA has no OpenSSL name/);
    (option.spec as { minVersion: string }).minVersion = "VersionTLS10";
    expect(() => ingressPolicy(objects, "orthanc", "test render")).toThrow(/minVersion "VersionTLS10" is neither/);
  });
});
