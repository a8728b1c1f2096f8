// Mutual TLS on 11112 (issue 17), as helm/orthanc renders it: the DICOM route
// requires a client certificate from the modality CA, the web route never does
// (neither through its own option nor through Traefik's "default", which is
// what clients without SNI get); the same with Istio; the modality CA and the
// smoke client's certificate survive upgrades; registered modalities and the
// TLS policy; bad values fail naming the value.
import { X509Certificate } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../tasks/lib/exec.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { as, chartDir, find, ofKind, render, renderRaw } from "../helpers/chart.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";
import { scratchDir } from "../helpers/scratch.ts";

const secretData = (objects: readonly KubeObject[], name: string) => as<Record<string, string>>(find(objects, "Secret", name).data);
const cert = (base64: string) => new X509Certificate(Buffer.from(base64, "base64").toString("utf8"));
const orthancJson = (objects: readonly KubeObject[]) => JSON.parse(as(find(objects, "ConfigMap", "orthanc-config").data)["orthanc.json"]) as Record<string, unknown>;
/** The TLSOption a Traefik route uses: the one it names, else "default". */
const optionOf = (objects: readonly KubeObject[], kind: string, name: string) => {
  const named = as(find(objects, kind, name).spec).tls.options?.name as string | undefined;
  return as(find(objects, "TLSOption", named ?? "default").spec);
};

describe("mutual TLS on 11112 with Traefik (defaults)", () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render();
  });

  it("the DICOM route's own option requires and verifies a client certificate against the modality CA only", () => {
    const option = optionOf(objects, "IngressRouteTCP", "orthanc-dicom");
    expect(option.clientAuth).toEqual({ secretNames: ["orthanc-modality-ca"], clientAuthType: "RequireAndVerifyClientCert" });
    expect(secretData(objects, "orthanc-modality-ca")["ca.crt"]).toBe(secretData(objects, "orthanc-modality-ca")["tls.crt"]);
    // Not the server's CA: a certificate of the server chain must not open 11112.
    expect(secretData(objects, "orthanc-modality-ca")["ca.crt"]).not.toBe(secretData(objects, "orthanc-tls")["ca.crt"]);
  });

  it("the web route and every client without SNI get no client-certificate requirement (the option named default)", () => {
    expect(optionOf(objects, "IngressRoute", "orthanc-web").clientAuth).toBeUndefined();
    // Traefik applies "default" to routers naming no option and to handshakes without SNI on 443.
    expect(as(find(objects, "TLSOption", "default").spec).clientAuth).toBeUndefined();
    for (const option of ofKind(objects, "TLSOption")) {
      if (as(option.spec).clientAuth) expect(option.metadata?.name).toBe("orthanc-dicom");
    }
  });

  it("the smoke client's certificate: signed by the modality CA, for client authentication", () => {
    const ca = cert(secretData(objects, "orthanc-modality-ca")["tls.crt"]!);
    const client = cert(secretData(objects, "orthanc-smoke-client")["tls.crt"]!);
    expect(ca.ca).toBe(true);
    expect(client.checkIssued(ca) && client.verify(ca.publicKey)).toBe(true);
    expect(client.keyUsage).toContain("1.3.6.1.5.5.7.3.2");
    expect(client.subject).toBe("CN=korthweb-smoke");
  });

  it("registers the smoke client's AE title, so unknown calling AE titles may neither echo nor store", () => {
    const config = orthancJson(objects);
    expect(config.DicomModalities).toEqual({ "korthweb-smoke": { AET: "KORTHWEB-SMOKE", Host: "127.0.0.1", Port: 104 } });
    expect(config).toMatchObject({ DicomAlwaysAllowEcho: false, DicomAlwaysAllowStore: false, DicomCheckCalledAet: true });
  });

  it("TLS policy: TLS 1.2 with the six BCP 195 suites on both options; tlsPolicy 1.3 makes both TLS 1.3 only", async () => {
    const suites = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"];
    for (const name of ["default", "orthanc-dicom"]) expect(as(find(objects, "TLSOption", name).spec)).toMatchObject({ minVersion: "VersionTLS12", cipherSuites: suites });
    const only13 = await render({ values: { tlsPolicy: { minVersion: "1.3" } } });
    for (const name of ["default", "orthanc-dicom"]) expect(as(find(only13, "TLSOption", name).spec)).toMatchObject({ minVersion: "VersionTLS13" });
  });
});

describe("dicom.clientAuth optional and none", () => {
  it("optional: verified when given (Traefik VerifyClientCertIfGiven, Istio OPTIONAL_MUTUAL)", async () => {
    const traefik = await render({ values: { dicom: { clientAuth: "optional" } } });
    expect(as(find(traefik, "TLSOption", "orthanc-dicom").spec).clientAuth.clientAuthType).toBe("VerifyClientCertIfGiven");
    const istio = await render({ values: { dicom: { clientAuth: "optional" }, ingress: { provider: "istio" } } });
    expect(as(find(istio, "Gateway", "orthanc").spec).servers[1].tls).toMatchObject({ mode: "OPTIONAL_MUTUAL", caCertCredentialName: "orthanc-modality-ca" });
  });

  it("none: server-only TLS, no modality CA, and NOTES.txt warns", async () => {
    const objects = await render({ values: { dicom: { clientAuth: "none" } } });
    expect(as(find(objects, "TLSOption", "orthanc-dicom").spec).clientAuth).toBeUndefined();
    expect(ofKind(objects, "Secret").map((s) => s.metadata?.name).sort()).toEqual(["orthanc-ca", "orthanc-tls"]);
    const istio = await render({ values: { dicom: { clientAuth: "none" }, ingress: { provider: "istio" } } });
    expect(as(find(istio, "Gateway", "orthanc").spec).servers[1].tls.mode).toBe("SIMPLE");
    const notes = async (values: string) => {
      const file = join(scratchDir("korthweb-notes-"), "values.yaml");
      writeFileSync(file, values);
      const { stdout } = await run(requireToolPath("helm"), ["install", "orthanc", chartDir, "-n", "orthanc", "--dry-run=client", "-f", file], { silent: true, env: { KUBECONFIG: "/nonexistent" } });
      return stdout.slice(stdout.indexOf("NOTES:"));
    };
    expect(await notes("dicom:\n  clientAuth: none\n")).toContain('WARNING: dicom.clientAuth is "none": port 11112 accepts DICOM-TLS from any client');
    const required = await notes("{}\n");
    expect(required).not.toContain("WARNING");
    expect(required).toContain("make modality-cert NAME=ct-scanner-1");
  });
});

describe("mutual TLS with Istio and cert-manager (a gitops tenant)", () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render({ valuesFiles: ["helm/orthanc/ci/istio-cert-manager.yaml"] });
  });

  it("Gateway 11112: MUTUAL with the modality CA (caCertCredentialName), 443 stays SIMPLE", () => {
    const [web, dicom] = as(find(objects, "Gateway", "orthanc").spec).servers;
    expect(web.tls.mode).toBe("SIMPLE");
    expect(web.tls.caCertCredentialName).toBeUndefined();
    expect(dicom.tls).toMatchObject({ mode: "MUTUAL", caCertCredentialName: "orthanc-modality-ca", credentialName: "orthanc-tls" });
  });

  it("its own CA per release, in the gateway namespace: self-signed Issuer → CA Certificate (key kept) → Issuer → smoke client Certificate (client auth)", () => {
    for (const object of [...ofKind(objects, "Issuer"), ...ofKind(objects, "Certificate")]) expect(object.metadata?.namespace).toBe("bhc-ingress");
    expect(as(find(objects, "Issuer", "orthanc-modality-selfsigned").spec)).toEqual({ selfSigned: {} });
    expect(as(find(objects, "Certificate", "orthanc-modality-ca").spec)).toMatchObject({
      isCA: true,
      secretName: "orthanc-modality-ca",
      privateKey: { rotationPolicy: "Never" },
      issuerRef: { name: "orthanc-modality-selfsigned", kind: "Issuer" },
    });
    expect(as(find(objects, "Issuer", "orthanc-modality-ca").spec)).toEqual({ ca: { secretName: "orthanc-modality-ca" } });
    expect(as(find(objects, "Certificate", "orthanc-smoke-client").spec)).toMatchObject({
      secretName: "orthanc-smoke-client",
      usages: ["client auth", "digital signature"],
      issuerRef: { name: "orthanc-modality-ca", kind: "Issuer" },
    });
    // No key material in the render.
    expect(ofKind(objects, "Secret")).toEqual([]);
  });

  it("helm test, without the client certificate in its namespace, checks that 11112 refuses a client without one", () => {
    const args = as(find(objects, "Pod", "orthanc-test").spec).containers[0].args as string[];
    expect(args).toContain("--client-auth=required");
    expect(args.some((arg) => arg.startsWith("--client-cert"))).toBe(false);
  });
});

describe("registered modalities", () => {
  it("render into DicomModalities with UseDicomTls, and Orthanc gets its outgoing client certificate", async () => {
    const objects = await render({
      values: { dicom: { modalities: [{ aet: "CT01", host: "ct.example", port: 104, useDicomTls: true }, { name: "mr", aet: "MR01", host: "mr.example", port: 11112 }] } },
    });
    const config = orthancJson(objects);
    expect(config.DicomModalities).toEqual({
      CT01: { AET: "CT01", Host: "ct.example", Port: 104, UseDicomTls: true },
      mr: { AET: "MR01", Host: "mr.example", Port: 11112 },
      "korthweb-smoke": { AET: "KORTHWEB-SMOKE", Host: "127.0.0.1", Port: 104 },
    });
    expect(config).toMatchObject({
      DicomAlwaysAllowEcho: false,
      DicomAlwaysAllowStore: false,
      DicomTlsCertificate: "/etc/korthweb-dicom-tls/tls.crt",
      DicomTlsPrivateKey: "/etc/korthweb-dicom-tls/tls.key",
      DicomTlsTrustedCertificates: "/etc/korthweb-dicom-tls/ca.crt",
    });
    // Outgoing only: Orthanc's own DICOM server stays plain behind the ingress.
    expect(config.DicomTlsEnabled).toBeUndefined();
    const pod = as(find(objects, "Deployment", "orthanc").spec).template.spec;
    expect(pod.volumes.find((v: { name: string }) => v.name === "dicom-tls").secret.secretName).toBe("orthanc-dicom-client");
    const client = cert(secretData(objects, "orthanc-dicom-client")["tls.crt"]!);
    expect(client.verify(cert(secretData(objects, "orthanc-modality-ca")["tls.crt"]!).publicKey)).toBe(true);
  });

  it("without modalities and without the smoke client, any calling AE title may echo and store (the chart's old behaviour)", async () => {
    const config = orthancJson(await render({ values: { dicom: { smokeClient: { enabled: false } } } }));
    expect(config).toMatchObject({ DicomAlwaysAllowEcho: true, DicomAlwaysAllowStore: true, DicomModalities: {} });
  });

  it("bad input fails the render naming the value", async () => {
    const failure = async (values: Record<string, unknown>) => (await renderRaw({ values })).stderr;
    expect(await failure({ dicom: { modalities: [{ aet: "CT01", host: "a", port: 104 }, { aet: "ct01", host: "b", port: 104 }] } })).toContain(
      'dicom.modalities[1].aet: AE title "ct01" is already registered by dicom.modalities[0]',
    );
    expect(await failure({ dicom: { modalities: [{ aet: "KORTHWEB-SMOKE", host: "a", port: 104 }] } })).toContain("dicom.modalities[0].aet");
    expect(await failure({ dicom: { modalities: [{ aet: "CT01", host: "a" }] } })).toMatch(/dicom\/modalities\/0.*port/);
    expect(await failure({ dicom: { modalities: [{ aet: "THIS-AE-TITLE-IS-TOO-LONG", host: "a", port: 104 }] } })).toMatch(/dicom\/modalities\/0\/aet/);
    expect(await failure({ dicom: { clientAuth: "sometimes" } })).toMatch(/dicom\/clientAuth/);
    expect(await failure({ dicom: { modalityCa: { mode: "existingSecret" } } })).toContain("dicom.modalityCa.secretName: required");
    expect(await failure({ dicom: { modalityCa: { mode: "certManager" }, modalities: [{ aet: "CT01", host: "a", port: 104, useDicomTls: true }] } })).toContain(
      "dicom.outgoingTlsSecret: required",
    );
  });
});

describe("the modality CA across upgrades (lookup against an API server)", () => {
  let cluster: FakeCluster;
  let kubeconfig: string;
  beforeAll(async () => {
    cluster = await startFakeCluster();
    kubeconfig = writeKubeconfig(cluster.url);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it("reuses the CA and the smoke client's certificate; a new CA re-signs the client", async () => {
    const first = await render();
    const installed = ["orthanc-modality-ca", "orthanc-smoke-client"].map((name) => {
      const copy = structuredClone(find(first, "Secret", name));
      as(copy.metadata).annotations = { ...as(copy.metadata).annotations, "meta.helm.sh/release-name": "orthanc", "meta.helm.sh/release-namespace": "orthanc" };
      return copy;
    });
    cluster.setObjects(installed);
    const second = await render({ kubeconfig });
    expect(secretData(second, "orthanc-modality-ca")).toEqual(secretData(first, "orthanc-modality-ca"));
    expect(secretData(second, "orthanc-smoke-client")).toEqual(secretData(first, "orthanc-smoke-client"));
    // The CA deleted (re-issued to revoke every modality certificate): a new CA, the client re-signed by it.
    cluster.setObjects([installed[1]!]);
    const third = await render({ kubeconfig });
    expect(secretData(third, "orthanc-modality-ca")["tls.crt"]).not.toBe(secretData(first, "orthanc-modality-ca")["tls.crt"]);
    expect(cert(secretData(third, "orthanc-smoke-client")["tls.crt"]!).verify(cert(secretData(third, "orthanc-modality-ca")["tls.crt"]!).publicKey)).toBe(true);
  });
});
