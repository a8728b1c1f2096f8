// cert-manager for real on a real node (issue 16, item 1): make cluster-up
// ARGS="--real-node --with cert-manager" builds cert-manager's controller,
// webhook and cainjector from its Go module (our main program around its code:
// stand-in images) and installs them with cert-manager's own chart and the
// manual approach's values file. Then, against those real controllers:
// - bad input: an unknown extra changes nothing; the webhook refuses an invalid
//   Certificate with its own message and nothing is created;
// - the manual approach's step 3: SelfSigned → CA → CA issuer → leaf
//   certificates Ready, Secrets issued, the chains verifying with openssl, and a
//   modality's client certificate (make modality-cert --approach manual);
// - renewals forced as `cmctl renew` does: a leaf renews with a new key under the
//   same CA; the CA renews keeping its key (rotationPolicy Never), so what it
//   signed before still verifies against the renewed CA and the other way round;
// - the orthanc chart with tls.mode certManager and dicom.modalityCa.mode
//   certManager: its Certificates Ready, Traefik serving cert-manager's
//   certificate, make smoke passing, and a forced renewal reaching the wire;
// - make cluster-down leaves the host as it was.
// Needs root and overlayfs: in CI (CI=true) a machine without them FAILS this
// file with the reason; elsewhere it is skipped with the reason printed.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { run } from "../../tasks/lib/exec.ts";
import { fromRoot, toolsBinDir } from "../../tasks/lib/paths.ts";
import { nodeLayout } from "../../proving-ground/real-node/layout.ts";
import { certManagerPin, renewalPatch } from "../../proving-ground/real-node/cert-manager.ts";
import { output, printed, RealNodeSession, realNodeBlockers } from "../helpers/real-node-cluster.ts";

const blockers = await realNodeBlockers();

interface Condition {
  type: string;
  status: string;
}
interface Certificate {
  metadata: { name: string; namespace: string; generation: number };
  status?: { conditions?: Condition[]; revision?: number };
}
interface Secret {
  data: Record<string, string>;
}

describe.skipIf(blockers.length > 0)("cert-manager on a real node", () => {
  const session = new RealNodeSession("korthweb-real-node-cert-manager-");
  const { env, work, clusterDir } = session;
  const pems = join(work, "pem");
  const figures: Record<string, number | string> = {};

  const { timings, timed, make, node, kubectl, kubectlJson } = session;
  const openssl = (args: string[], input?: string) => run("openssl", args, { allowFailure: true, silent: true, timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });

  /** A Secret's key, decoded, without surrounding white space (PEM blocks compare by content). */
  const secretKey = async (namespace: string, name: string, key: string): Promise<string> => {
    const secret = await kubectlJson<Secret>(["-n", namespace, "get", "secret", name]);
    const value = secret.data[key];
    if (!value) throw new Error(`Secret ${namespace}/${name} has no ${key}`);
    return Buffer.from(value, "base64").toString("utf8").trim();
  };
  let pemCount = 0;
  const pemFile = (text: string): string => {
    const file = join(pems, `${pemCount++}.pem`);
    writeFileSync(file, `${text.trim()}\n`);
    return file;
  };
  /** openssl verify of `leaf` against exactly the CA certificate `ca` (no system store), for a purpose. */
  const verifies = async (ca: string, leaf: string, purpose: "sslserver" | "sslclient" | "any" = "any") => {
    const result = await openssl(["verify", "-no-CApath", "-no-CAstore", "-CAfile", pemFile(ca), "-purpose", purpose, pemFile(leaf)]);
    return { ok: result.exitCode === 0 && /: OK\s*$/.test(result.stdout), text: printed(result).trim() };
  };
  const certField = async (pem: string, args: string[]) => (await openssl(["x509", "-noout", ...args], pem)).stdout.trim();
  const publicKey = async (pem: string) => (await openssl(["x509", "-noout", "-pubkey"], pem)).stdout.trim();
  const conditionOf = (object: { status?: { conditions?: Condition[] } }, type: string) => object.status?.conditions?.find((condition) => condition.type === type)?.status;

  /** Triggers a re-issue as `cmctl renew` does and waits for the next revision to be Ready. */
  const renew = async (namespace: string, name: string): Promise<number> => {
    const certificate = await kubectlJson<Certificate>(["-n", namespace, "get", "certificate", name]);
    const revision = certificate.status?.revision ?? 0;
    const patched = await kubectl(["-n", namespace, "patch", "certificate", name, "--subresource=status", "--type=json", "-p", JSON.stringify(renewalPatch(certificate))]);
    expect(patched.exitCode, output(patched)).toBe(0);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const now = await kubectlJson<Certificate>(["-n", namespace, "get", "certificate", name]);
      if ((now.status?.revision ?? 0) > revision && conditionOf(now, "Ready") === "True" && conditionOf(now, "Issuing") === undefined) return now.status!.revision!;
      if (Date.now() > deadline) throw new Error(`Certificate ${namespace}/${name} did not reach revision ${revision + 1}: ${JSON.stringify(now.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  beforeAll(async () => {
    // Another test file may run its real node now: wait for it, then record the host as it is.
    await session.open();
    timings.waitedForRealNode = session.waitedSeconds;
    mkdirSync(pems, { recursive: true });
  }, 3_700_000);

  afterAll(async () => {
    // Whatever happened, leave the host as it was (the last test checks that cluster-down alone did it).
    await session.close();
    console.log(`cert-manager on the real node, timings (s): ${JSON.stringify(timings)}; figures: ${JSON.stringify(figures)}`);
  }, 600_000);

  it('make cluster-up ARGS="--real-node --with cert-manager" runs cert-manager\'s controller, webhook and cainjector (stand-in images) from its own chart', async () => {
    const result = await timed("clusterUp", () => make("cluster-up", { ARGS: "--real-node --with cert-manager" }));
    session.up = true;
    expect(result.exitCode, output(result)).toBe(0);
    expect(printed(result)).toMatch(/cert-manager/);
    const deployments = await kubectlJson<{ items: { metadata: { name: string }; spec: { template: { spec: { containers: { image: string }[] } } }; status: { availableReplicas?: number } }[] }>(["-n", "cert-manager", "get", "deployments"]);
    expect(deployments.items.map((item) => item.metadata.name).sort()).toEqual(["cert-manager", "cert-manager-cainjector", "cert-manager-webhook"]);
    for (const deployment of deployments.items) {
      expect(deployment.status.availableReplicas, deployment.metadata.name).toBe(1);
      expect(deployment.spec.template.spec.containers[0]!.image).toMatch(new RegExp(`^korthweb\\.local/cert-manager-(controller|webhook|cainjector):${certManagerPin.version}-`));
    }
    // The images say what they stand in for.
    const images = readFileSync(nodeLayout(clusterDir).images, "utf8");
    expect(images).toMatch(/cert-manager-controller/);
    // cert-manager's own CRDs (from its chart), not the ones generated for validation; its release from its chart at the pin.
    const crd = await kubectlJson<{ metadata: { labels?: Record<string, string> } }>(["get", "crd", "certificates.cert-manager.io"]);
    expect(crd.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("Helm");
    const releases = JSON.parse((await run(join(toolsBinDir, "helm"), ["list", "-n", "cert-manager", "-o", "json"], { env, silent: true })).stdout) as { name: string; chart: string; status: string }[];
    expect(releases).toEqual([expect.objectContaining({ name: "cert-manager", chart: `cert-manager-${certManagerPin.version}`, status: "deployed" })]);
    // The cainjector put the webhook's CA into the webhook configurations.
    const webhookCa = await secretKey("cert-manager", "cert-manager-webhook-ca", "ca.crt");
    const validating = await kubectlJson<{ webhooks: { clientConfig: { caBundle?: string } }[] }>(["get", "validatingwebhookconfiguration", "cert-manager-webhook"]);
    expect(Buffer.from(validating.webhooks[0]!.clientConfig.caBundle ?? "", "base64").toString("utf8").trim()).toBe(webhookCa.trim());
    const seconds = /cert-manager (\d+(?:\.\d+)?)s/.exec(printed(result));
    if (seconds) figures.certManagerInstallSeconds = Number(seconds[1]);
  }, 2_400_000);

  it("an unknown extra is refused by name and changes nothing", async () => {
    const uids = async () => (await kubectl(["get", "pods", "-A", "-o", "jsonpath={.items[*].metadata.uid}"])).stdout;
    const was = await uids();
    const result = await make("cluster-up", { ARGS: "--real-node --with cert-manager,nonsense" });
    expect(result.exitCode).not.toBe(0);
    expect(printed(result)).toMatch(/--with: unknown extra "nonsense"; known: cert-manager\. Nothing was changed/);
    expect(await uids()).toBe(was);
  }, 300_000);

  it("the webhook refuses an invalid Certificate with its own message, and nothing is created", async () => {
    await kubectl(["create", "namespace", "webhook-check"]);
    const invalid = {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "invalid", namespace: "webhook-check" },
      // Valid for the CRD's schema; invalid for cert-manager: an ECDSA key of 100 bits, and no name at all.
      spec: { secretName: "invalid", privateKey: { algorithm: "ECDSA", size: 100 }, issuerRef: { name: "korthweb-ca", kind: "ClusterIssuer" } },
    };
    const result = await kubectl(["apply", "-f", "-"], JSON.stringify(invalid));
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/admission webhook "webhook\.cert-manager\.io" denied the request/);
    expect(result.stderr).toMatch(/spec\.privateKey\.size/);
    expect(result.stderr).toMatch(/at least one of commonName|commonName, dnsNames/);
    const found = await kubectl(["-n", "webhook-check", "get", "certificate", "invalid"]);
    expect(found.exitCode).not.toBe(0);
    expect(found.stderr).toMatch(/NotFound|not found/);
  }, 120_000);

  it("the manual approach's step 3 issues for real: SelfSigned → CA → CA issuer → leaves Ready, Secrets issued, chains verify", async () => {
    // Step 2 (Istio) cannot run here; its gateway namespace, with its Pod Security labels, is what step 3 needs.
    const namespaces = parseAllDocuments(readFileSync(fromRoot("manual", "02-istio", "namespaces.yaml"), "utf8")).map((doc) => doc.toJS() as { metadata: { name: string } });
    const gateway = namespaces.find((namespace) => namespace.metadata.name === "istio-ingress");
    expect((await kubectl(["apply", "-f", "-"], JSON.stringify(gateway))).exitCode).toBe(0);
    // cert-manager is installed (the real node's extra): the step installs nothing upstream, applies the chain for real.
    const step = await timed("manualStep3", () => node("tasks/manual/03-cert-manager.ts", ["--skip-upstream"]));
    expect(step.exitCode, output(step)).toBe(0);
    const chain = parseAllDocuments(readFileSync(fromRoot("manual", "03-cert-manager", "ca-chain.yaml"), "utf8")).map((doc) => doc.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    expect(chain.length).toBeGreaterThanOrEqual(7);
    const started = Date.now();
    for (const object of chain) {
      const waited = await kubectl([...(object.metadata.namespace ? ["-n", object.metadata.namespace] : []), "wait", "--for=condition=Ready", `${object.kind.toLowerCase()}.cert-manager.io/${object.metadata.name}`, "--timeout=180s"]);
      expect(waited.exitCode, `${object.kind} ${object.metadata.name}: ${output(waited)}`).toBe(0);
    }
    figures.manualChainReadySeconds = (Date.now() - started) / 1000;

    const ca = await secretKey("cert-manager", "korthweb-ca", "tls.crt");
    expect(await certField(ca, ["-subject"])).toMatch(/CN ?= ?korthweb manual CA/);
    expect(await certField(ca, ["-ext", "basicConstraints"])).toMatch(/CA:TRUE/);
    const leaf = await secretKey("istio-ingress", "orthanc-tls", "tls.crt");
    expect(await secretKey("istio-ingress", "orthanc-tls", "ca.crt")).toBe(ca);
    expect(await secretKey("istio-ingress", "orthanc-tls", "tls.key")).toMatch(/BEGIN (EC )?PRIVATE KEY/);
    const sans = await certField(leaf, ["-ext", "subjectAltName"]);
    expect(sans).toMatch(/DNS:web\.korthweb\.test/);
    expect(sans).toMatch(/DNS:dicom\.korthweb\.test/);
    expect((await verifies(ca, leaf, "sslserver")).ok).toBe(true);

    // The modality CA is separate: its smoke client verifies against it, not against the server CA.
    const modalityCa = await secretKey("istio-ingress", "orthanc-modality-ca", "tls.crt");
    const smokeClient = await secretKey("istio-ingress", "orthanc-smoke-client", "tls.crt");
    expect((await verifies(modalityCa, smokeClient, "sslclient")).ok).toBe(true);
    expect((await verifies(ca, smokeClient)).ok).toBe(false);
    expect((await verifies(modalityCa, leaf)).ok).toBe(false);
  }, 900_000);

  it("make modality-cert --approach manual gets a modality's client certificate from cert-manager", async () => {
    const result = await timed("modalityCert", () => make("modality-cert", { NAME: "ct-scanner-1", ARGS: "--approach manual" }));
    expect(result.exitCode, output(result)).toBe(0);
    const certificate = await kubectlJson<Certificate>(["-n", "istio-ingress", "get", "certificate", "modality-ct-scanner-1"]);
    expect(conditionOf(certificate, "Ready")).toBe("True");
    const kit = join(work, "modality-certs", "ct-scanner-1");
    const client = readFileSync(join(kit, "ct-scanner-1.crt"), "utf8").trim();
    expect(client).toBe(await secretKey("istio-ingress", "modality-ct-scanner-1", "tls.crt"));
    expect(await certField(client, ["-subject"])).toMatch(/CN ?= ?ct-scanner-1/);
    expect(await certField(client, ["-ext", "extendedKeyUsage"])).toMatch(/TLS Web Client Authentication/);
    expect((await verifies(readFileSync(join(kit, "modality-ca.crt"), "utf8"), client, "sslclient")).ok).toBe(true);
    expect(readFileSync(join(kit, "modality-ca.crt"), "utf8").trim()).toBe(await secretKey("istio-ingress", "orthanc-modality-ca", "tls.crt"));
  }, 300_000);

  it("a leaf forced to renew gets a new certificate and key under the same CA", async () => {
    const ca = await secretKey("cert-manager", "korthweb-ca", "tls.crt");
    const caKey = await secretKey("cert-manager", "korthweb-ca", "tls.key");
    const [oldLeaf, oldKey] = [await secretKey("istio-ingress", "orthanc-tls", "tls.crt"), await secretKey("istio-ingress", "orthanc-tls", "tls.key")];
    await timed("leafRenewal", () => renew("istio-ingress", "orthanc-tls"));
    const [newLeaf, newKey] = [await secretKey("istio-ingress", "orthanc-tls", "tls.crt"), await secretKey("istio-ingress", "orthanc-tls", "tls.key")];
    expect(newLeaf).not.toBe(oldLeaf);
    expect(await certField(newLeaf, ["-serial"])).not.toBe(await certField(oldLeaf, ["-serial"]));
    expect(newKey).not.toBe(oldKey); // rotationPolicy Always
    expect(await secretKey("istio-ingress", "orthanc-tls", "ca.crt")).toBe(ca);
    expect(await secretKey("cert-manager", "korthweb-ca", "tls.crt")).toBe(ca);
    expect(await secretKey("cert-manager", "korthweb-ca", "tls.key")).toBe(caKey);
    expect((await verifies(ca, newLeaf, "sslserver")).ok).toBe(true);
  }, 300_000);

  it("the CA forced to renew keeps its key (rotationPolicy Never): old and new leaves verify against old and new CA certificates", async () => {
    const [oldCa, oldCaKey] = [await secretKey("cert-manager", "korthweb-ca", "tls.crt"), await secretKey("cert-manager", "korthweb-ca", "tls.key")];
    const leafBefore = await secretKey("istio-ingress", "orthanc-tls", "tls.crt");
    const modalityCaBefore = await secretKey("istio-ingress", "orthanc-modality-ca", "tls.key");
    await timed("caRenewal", () => renew("cert-manager", "korthweb-ca"));
    await timed("modalityCaRenewal", () => renew("istio-ingress", "orthanc-modality-ca"));
    const [newCa, newCaKey] = [await secretKey("cert-manager", "korthweb-ca", "tls.crt"), await secretKey("cert-manager", "korthweb-ca", "tls.key")];
    expect(newCa).not.toBe(oldCa);
    expect(await certField(newCa, ["-serial"])).not.toBe(await certField(oldCa, ["-serial"]));
    expect(newCaKey).toBe(oldCaKey);
    expect(await publicKey(newCa)).toBe(await publicKey(oldCa));
    expect(await secretKey("istio-ingress", "orthanc-modality-ca", "tls.key")).toBe(modalityCaBefore);
    // What the CA signed before its renewal is still trusted by clients holding the renewed CA...
    expect((await verifies(newCa, leafBefore, "sslserver")).ok).toBe(true);
    // ...and a leaf signed after it by clients still holding the old one.
    await renew("istio-ingress", "orthanc-tls");
    const leafAfter = await secretKey("istio-ingress", "orthanc-tls", "tls.crt");
    expect(await secretKey("istio-ingress", "orthanc-tls", "ca.crt")).toBe(newCa);
    expect((await verifies(oldCa, leafAfter, "sslserver")).ok).toBe(true);
    expect((await verifies(newCa, leafAfter, "sslserver")).ok).toBe(true);
    const issuer = await kubectlJson<{ status?: { conditions?: Condition[] } }>(["get", "clusterissuer", "korthweb-ca"]);
    expect(conditionOf(issuer, "Ready")).toBe("True");
  }, 600_000);

  it("the orthanc chart with tls.mode certManager (and the modality CA from cert-manager): Certificates Ready, Traefik serves cert-manager's certificate, make smoke passes", async () => {
    const postgresql = await timed("postgresqlStandIn", () => node("proving-ground/real-node/postgresql.ts"));
    expect(postgresql.exitCode, output(postgresql)).toBe(0);
    const values = parse(readFileSync(nodeLayout(clusterDir).valuesFile, "utf8")) as Record<string, unknown>;
    const valuesFile = join(work, "cert-manager-mode.values.yaml");
    writeFileSync(
      valuesFile,
      stringify({
        ...values,
        tls: { mode: "certManager", certManager: { issuerRef: { name: "korthweb-ca", kind: "ClusterIssuer", group: "cert-manager.io" } } },
        dicom: { ...(values.dicom as object | undefined), modalityCa: { mode: "certManager" } },
      }),
    );
    const install = await timed("helmInstallCertManagerMode", () => make("helm-install", { ARGS: "--skip-upstream", VALUES: valuesFile }));
    expect(install.exitCode, output(install)).toBe(0);
    const certificates = await kubectlJson<{ items: Certificate[] }>(["-n", "orthanc", "get", "certificates"]);
    expect(certificates.items.map((item) => item.metadata.name).sort()).toEqual(["orthanc", "orthanc-modality-ca", "orthanc-smoke-client"]);
    for (const name of ["orthanc", "orthanc-modality-ca", "orthanc-smoke-client"]) {
      const waited = await kubectl(["-n", "orthanc", "wait", "--for=condition=Ready", `certificate.cert-manager.io/${name}`, "--timeout=180s"]);
      expect(waited.exitCode, output(waited)).toBe(0);
    }
    const ca = await secretKey("cert-manager", "korthweb-ca", "tls.crt");
    const leaf = await secretKey("orthanc", "orthanc-tls", "tls.crt");
    expect(await secretKey("orthanc", "orthanc-tls", "ca.crt")).toBe(ca);
    expect((await verifies(ca, leaf, "sslserver")).ok).toBe(true);
    expect((await verifies(await secretKey("orthanc", "orthanc-modality-ca", "tls.crt"), await secretKey("orthanc", "orthanc-smoke-client", "tls.crt"), "sslclient")).ok).toBe(true);

    const smoke = await timed("smoke", () => make("smoke"));
    expect(smoke.exitCode, output(smoke)).toBe(0);
    expect(printed(smoke)).toMatch(/smoke: [1-9]\d* passed, 0 failed/);
  }, 1_800_000);

  it("the chart's certificate forced to renew reaches the wire: Traefik serves the new one, which verifies against the CA clients already have", async () => {
    const address = (await kubectl(["-n", "traefik", "get", "service", "traefik", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"])).stdout.trim();
    expect(address).toMatch(/^192\.0\.2\.\d+$/);
    const served = async () => {
      const result = await openssl(["s_client", "-connect", `${address}:443`, "-servername", "web.korthweb.test"], "");
      return certField(result.stdout, ["-serial"]);
    };
    const ca = await secretKey("orthanc", "orthanc-tls", "ca.crt");
    expect(await served()).toBe(await certField(await secretKey("orthanc", "orthanc-tls", "tls.crt"), ["-serial"]));
    await timed("chartLeafRenewal", () => renew("orthanc", "orthanc"));
    const renewed = await secretKey("orthanc", "orthanc-tls", "tls.crt");
    const serial = await certField(renewed, ["-serial"]);
    const started = Date.now();
    let onTheWire = await served();
    while (onTheWire !== serial && Date.now() - started < 120_000) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      onTheWire = await served();
    }
    expect(onTheWire).toBe(serial);
    figures.renewedCertificateOnTheWireSeconds = (Date.now() - started) / 1000;
    expect((await verifies(ca, renewed, "sslserver")).ok).toBe(true);
  }, 400_000);

  it("the three components' memory (resident, from the node's processes)", async () => {
    const ps = await run("ps", ["-eo", "rss=,args="], { silent: true });
    const rss: Record<string, number> = {};
    for (const line of ps.stdout.split("\n")) {
      const match = /^\s*(\d+)\s+\/usr\/local\/bin\/cert-manager (controller|webhook|cainjector)\b/.exec(line);
      if (match) rss[match[2]!] = Math.round(Number(match[1]) / 1024);
    }
    expect(Object.keys(rss).sort()).toEqual(["cainjector", "controller", "webhook"]);
    for (const [component, mib] of Object.entries(rss)) figures[`${component}RssMiB`] = mib;
    console.log(`cert-manager resident memory (MiB): ${JSON.stringify(rss)}`);
  }, 60_000);

  it("make cluster-down stops everything and leaves the host exactly as before", async () => {
    const { result, hostDifferences } = await session.bringDown();
    expect(result.exitCode, output(result)).toBe(0);
    expect(hostDifferences).toEqual([]);
  }, 600_000);
});
