// `make modality-cert` against a (fake) API server: the helm approach signs
// with the chart's modality CA read from its Secret, and the kit verifies
// against it; a missing CA (helm Secret, cert-manager Issuer) is an error that
// names it, with nothing written. The local approach and dcmtk's use of the kit
// are proven in test/local/stack.test.ts.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { kitFiles, modalityCertTask } from "../../tasks/modality/cert.ts";
import { find, render } from "../helpers/chart.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { commonKinds, startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";
import { useCapturedLog } from "../helpers/log.ts";
import { scratchDir } from "../helpers/scratch.ts";

describe("make modality-cert against a cluster", () => {
  const lines = useCapturedLog();
  const dir = scratchDir("korthweb-modality-");
  let cluster: FakeCluster;
  let rendered: KubeObject[];
  const output = () => lines.join("\n");

  beforeAll(async () => {
    cluster = await startFakeCluster({ kinds: [...commonKinds, { apiVersion: "cert-manager.io/v1", kind: "Issuer" }] });
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    rendered = await render();
  });
  afterAll(async () => {
    await cluster?.close();
    delete process.env.KUBECONFIG;
  });

  it("helm: signs with the chart's modality CA from Secret orthanc/orthanc-modality-ca; the kit verifies against it", async () => {
    cluster.setObjects([find(rendered, "Secret", "orthanc-modality-ca"), find(rendered, "Secret", "orthanc-tls")]);
    const out = join(dir, "helm-kit");
    expect(await runTasks("modality-cert", [modalityCertTask], ["--name", "mr-1", "--out", out]), output()).toBe(0);
    expect(cluster.requests).toContain("GET /api/v1/namespaces/orthanc/secrets/orthanc-modality-ca");
    const kit = kitFiles(out, "mr-1");
    const ca = new X509Certificate(readFileSync(kit.modalityCa));
    const cert = new X509Certificate(readFileSync(kit.cert));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subject).toBe("CN=mr-1");
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(396 * 86_400_000);
    const tlsCa = Buffer.from((find(rendered, "Secret", "orthanc-tls").data as Record<string, string>)["ca.crt"]!, "base64").toString("utf8");
    expect(readFileSync(kit.serverCa, "utf8")).toBe(tlsCa);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(output()).toContain("from Secret orthanc/orthanc-modality-ca");
  });

  it("helm: without the modality CA, exit 1 naming the Secret, nothing written", async () => {
    cluster.setObjects([find(rendered, "Secret", "orthanc-tls")]);
    const out = join(dir, "no-ca");
    expect(await runTasks("modality-cert", [modalityCertTask], ["--name", "mr-1", "--out", out])).toBe(1);
    expect(output()).toContain("the modality CA is missing: Secret orthanc/orthanc-modality-ca with tls.crt and tls.key not found");
    expect(existsSync(out)).toBe(false);
  });

  it("manual and gitops: without the modality CA's Issuer, exit 1 naming it, nothing applied or written", async () => {
    cluster.setObjects([]);
    cluster.requests.length = 0;
    const out = join(dir, "no-issuer");
    expect(await runTasks("modality-cert", [modalityCertTask], ["--name", "us-1", "--approach", "gitops", "--tenant", "mhr", "--out", out])).toBe(1);
    expect(output()).toContain("no cert-manager Issuer mhr-ingress/orthanc-modality-ca");
    expect(await runTasks("modality-cert", [modalityCertTask], ["--name", "us-1", "--approach", "manual", "--out", out])).toBe(1);
    expect(output()).toContain("no cert-manager Issuer istio-ingress/orthanc-modality-ca");
    expect(cluster.requests.filter((request) => request.startsWith("PATCH"))).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
