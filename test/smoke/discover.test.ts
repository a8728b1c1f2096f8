// Target discovery: explicit flags and env, the local stack's file, and the
// current kube context (real kubectl against a stand-in API server holding the
// Secrets, the chart's ConfigMap and the gateway Service).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverTarget, explicitTarget, kubeTarget, localTarget, TargetOptions } from "../../smoke/discover.ts";
import { publicTarget } from "../../smoke/target.ts";
import { Kube } from "../../tasks/lib/kube.ts";
import { defaults } from "../../tasks/lib/settings.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";

const dir = mkdtempSync(join(tmpdir(), "korthweb-discover-"));
const b64 = (text: string) => Buffer.from(text).toString("base64");
const kube = new Kube({ context: undefined, dryRun: false });

describe("smoke target discovery", () => {
  let cluster: FakeCluster;
  beforeAll(async () => {
    cluster = await startFakeCluster({
      objects: [
        { apiVersion: "v1", kind: "Secret", metadata: { name: "orthanc-tls", namespace: "orthanc" }, data: { "ca.crt": b64("CA PEM") } },
        { apiVersion: "v1", kind: "Secret", metadata: { name: "orthanc-admin", namespace: "orthanc" }, data: { username: b64("admin"), password: b64("s3cret") } },
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "orthanc-config", namespace: "orthanc" },
          data: { "orthanc.json": '{"DicomAet": "PACS1", "DicomCheckCalledAet": true, "PostgreSQL": {"Port": ${PG_PORT}}}' },
        },
        { apiVersion: "v1", kind: "Service", metadata: { name: "traefik", namespace: "traefik" }, status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } } },
        { apiVersion: "v1", kind: "Service", metadata: { name: "pending", namespace: "traefik" }, status: { loadBalancer: {} } },
        { apiVersion: "v1", kind: "Secret", metadata: { name: "orthanc-smoke-client", namespace: "orthanc" }, data: { "tls.crt": b64("CLIENT CERT"), "tls.key": b64("CLIENT KEY") } },
        { apiVersion: "v1", kind: "Secret", metadata: { name: "orthanc-smoke-client", namespace: "mhr-ingress" }, data: { "tls.crt": b64("MHR CERT"), "tls.key": b64("MHR KEY") } },
      ],
    });
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
  });
  afterAll(async () => {
    await cluster.close();
    delete process.env.KUBECONFIG;
    rmSync(dir, { recursive: true, force: true });
  });

  it("kube: reads the gateway address, CA, login and AE title from the current context", async () => {
    const target = await kubeTarget(new TargetOptions({}, {}), defaults, kube, {});
    expect(target).toMatchObject({
      host: "192.0.2.10",
      httpsPort: 443,
      dicomPort: 11112,
      webName: "web.korthweb.test",
      dicomName: "dicom.korthweb.test",
      ca: "CA PEM",
      caSource: "Secret orthanc/orthanc-tls",
      credentials: { username: "admin", password: "s3cret" },
      credentialsSource: "Secret orthanc/orthanc-admin",
      calledAet: "PACS1",
      checksCalledAet: true,
    });
    expect(target.label).toContain("gateway traefik/traefik at 192.0.2.10");
    // Mutual TLS: the smoke client's certificate from the Secret the install creates; the chart's default is assumed.
    expect(target).toMatchObject({ client: { cert: "CLIENT CERT", key: "CLIENT KEY", source: "Secret orthanc/orthanc-smoke-client" }, clientAuth: "required" });
    // No modality CA Secret here: the expired-certificate check will say so instead of running.
    expect(target.modalityCa).toBeUndefined();
    // The report never carries key material.
    expect(JSON.stringify(publicTarget(target))).not.toMatch(/CLIENT KEY|CLIENT CERT/);
    expect(publicTarget(target)).toMatchObject({ clientCertificate: "Secret orthanc/orthanc-smoke-client" });
    const foreign = await kubeTarget(new TargetOptions({ "foreign-client-secret": "mhr-ingress/orthanc-smoke-client", "client-auth": "optional" }, {}), defaults, kube, {});
    expect(foreign).toMatchObject({ foreignClient: { cert: "MHR CERT", source: "Secret mhr-ingress/orthanc-smoke-client" }, clientAuth: "optional" });
    await expect(kubeTarget(new TargetOptions({ "client-secret": "orthanc/nope" }, {}), defaults, kube, {})).rejects.toThrow("Secret orthanc/nope not found or without tls.crt/tls.key");
    await expect(kubeTarget(new TargetOptions({ "client-auth": "sometimes" }, {}), defaults, kube, {})).rejects.toThrow('invalid --client-auth "sometimes"');
    expect(cluster.requests).toContain("GET /api/v1/namespaces/orthanc/secrets/orthanc-admin");
  });

  it("kube: tenant hostnames, and actionable errors for a pending LoadBalancer or a missing Secret", async () => {
    const tenant = await kubeTarget(new TargetOptions({ tenant: "bhc" }, {}), defaults, kube, {});
    expect([tenant.webName, tenant.dicomName]).toEqual(["web.bhc.korthweb.test", "dicom.bhc.korthweb.test"]);
    await expect(kubeTarget(new TargetOptions({ "gateway-service": "traefik/pending" }, {}), defaults, kube, {})).rejects.toThrow(
      "gateway Service traefik/pending has no LoadBalancer address yet",
    );
    await expect(kubeTarget(new TargetOptions({ "credentials-secret": "orthanc/nope" }, {}), defaults, kube, {})).rejects.toThrow("Secret orthanc/nope not found");
    await expect(kubeTarget(new TargetOptions({ "ca-secret": "no-slash" }, {}), defaults, kube, {})).rejects.toThrow('invalid --ca-secret "no-slash": expected NAMESPACE/NAME');
  });

  it("explicit: flags over env, password only from the environment, errors name the flag", async () => {
    const ca = join(dir, "ca.pem");
    writeFileSync(ca, "PEM");
    const env = { SMOKE_HOST: "127.0.0.2", SMOKE_DICOM_PORT: "2762", SMOKE_USERNAME: "u", SMOKE_PASSWORD: "p" };
    const target = await explicitTarget(new TargetOptions({ host: "127.0.0.1", "ca-file": ca, "check-called-aet": "no" }, env), defaults, env);
    expect(target).toMatchObject({ host: "127.0.0.1", httpsPort: 443, dicomPort: 2762, ca: "PEM", credentials: { username: "u", password: "p" }, checksCalledAet: false });
    await expect(explicitTarget(new TargetOptions({}, {}), defaults, {})).rejects.toThrow("--host (or SMOKE_HOST) is required");
    expect(() => new TargetOptions({ "https-port": "99999" }, {}).port("https-port", 443)).toThrow('invalid --https-port "99999"');
    expect(() => new TargetOptions({ "called-aet": "THIS-AE-TITLE-IS-TOO-LONG" }, {}).aet("called-aet", "X")).toThrow(/an AE title is 1–16/);
    await expect(explicitTarget(new TargetOptions({ host: "127.0.0.1", username: "u" }, {}), defaults, {})).rejects.toThrow("--username given without SMOKE_PASSWORD");
    // Client certificate files: both or neither, and they must exist.
    const cert = join(dir, "client.crt");
    writeFileSync(cert, "CERT");
    await expect(explicitTarget(new TargetOptions({ host: "127.0.0.1", "client-cert": cert }, {}), defaults, {})).rejects.toThrow("--client-cert and --client-key go together (got only --client-cert)");
    await expect(explicitTarget(new TargetOptions({ host: "127.0.0.1", "client-cert": cert, "client-key": join(dir, "missing.key") }, {}), defaults, {})).rejects.toThrow(/client certificate file .*missing\.key does not exist/);
    writeFileSync(join(dir, "client.key"), "KEY");
    const withClient = await explicitTarget(new TargetOptions({ host: "127.0.0.1", "client-cert": cert, "client-key": join(dir, "client.key") }, {}), defaults, {});
    expect(withClient).toMatchObject({ client: { cert: "CERT", key: "KEY" }, clientAuth: "required" });
  });

  it("explicit: a host name that does not resolve is named, with what to pass instead (a real lookup of a reserved .invalid name)", async () => {
    const ca = join(dir, "ca-for-host.pem");
    writeFileSync(ca, "PEM");
    const refused = explicitTarget(new TargetOptions({ host: "gateway.korthweb.invalid", "ca-file": ca }, {}), defaults, { SMOKE_PASSWORD: "p" });
    await expect(refused).rejects.toThrow("cannot resolve gateway.korthweb.invalid");
    await expect(refused).rejects.toMatchObject({ code: "usage", hint: "pass the gateway's address with --host" });
  });

  it("local: needs the file `make local-up` writes; auto picks explicit, then local, then kube", async () => {
    const missing = join(dir, "none.json");
    expect(() => localTarget(new TargetOptions({}, {}), missing, {})).toThrow(/the local stack has not been started/);
    const auto = await discoverTarget(new TargetOptions({}, {}), defaults, kube, missing, {});
    expect(auto.kind).toBe("kube");
    const explicit = await discoverTarget(new TargetOptions({ host: "127.0.0.1" }, {}), defaults, kube, missing, {});
    expect(explicit.kind).toBe("explicit");
    await expect(discoverTarget(new TargetOptions({ target: "moon" }, {}), defaults, kube, missing, {})).rejects.toThrow('invalid --target "moon"');
  });
});
