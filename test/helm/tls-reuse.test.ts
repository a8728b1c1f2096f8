// The generated CA must survive `helm upgrade`: the chart reads its Secrets
// back with `lookup`. helm only runs lookup against an API server, so these
// tests render with the real helm against a fake one that holds the Secrets
// of a previous render.
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { as, find, render } from "../helpers/chart.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";

const secretData = (objects: readonly KubeObject[], name: string) => as<Record<string, string>>(find(objects, "Secret", name).data);
const pem = (base64: string) => Buffer.from(base64, "base64").toString("utf8");
const cert = (base64: string) => new X509Certificate(pem(base64));

/** An object as a previous `helm install` of release orthanc left it in the cluster. */
const installed = (object: KubeObject): KubeObject => {
  const copy = structuredClone(object);
  const metadata = as(copy.metadata);
  metadata.labels = { ...metadata.labels, "app.kubernetes.io/managed-by": "Helm" };
  metadata.annotations = { ...metadata.annotations, "meta.helm.sh/release-name": "orthanc", "meta.helm.sh/release-namespace": "orthanc" };
  return copy;
};

describe("generated certificates across upgrades (lookup against an API server)", () => {
  let cluster: FakeCluster;
  let kubeconfig: string;
  let first: KubeObject[];

  beforeAll(async () => {
    cluster = await startFakeCluster();
    kubeconfig = writeKubeconfig(cluster.url);
    first = await render(); // a first install: nothing to look up
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const existing = (objects: readonly KubeObject[]) => [find(objects, "Secret", "orthanc-ca"), find(objects, "Secret", "orthanc-tls")].map(installed);

  it("first render: a CA, a leaf for both hostnames signed by it, the CA published in a ConfigMap", () => {
    const ca = cert(secretData(first, "orthanc-ca")["tls.crt"]!);
    const leaf = cert(secretData(first, "orthanc-tls")["tls.crt"]!);
    expect(ca.ca).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe("DNS:web.korthweb.test, DNS:dicom.korthweb.test");
    expect(secretData(first, "orthanc-tls")["ca.crt"]).toBe(secretData(first, "orthanc-ca")["tls.crt"]);
    expect(as(find(first, "ConfigMap", "orthanc-ca").data)["ca.crt"].trim()).toBe(pem(secretData(first, "orthanc-ca")["tls.crt"]!).trim());
  });

  it("upgrade with the Secrets present: CA and leaf are reused byte for byte", async () => {
    cluster.setObjects(existing(first));
    cluster.requests.length = 0;
    const second = await render({ kubeconfig });
    expect(cluster.requests).toContain("GET /api/v1/namespaces/orthanc/secrets/orthanc-ca");
    expect(cluster.requests).toContain("GET /api/v1/namespaces/orthanc/secrets/orthanc-tls");
    expect(secretData(second, "orthanc-ca")).toEqual(secretData(first, "orthanc-ca"));
    expect(secretData(second, "orthanc-tls")).toEqual(secretData(first, "orthanc-tls"));
  });

  it("upgrade with new hostnames: same CA, a new leaf for the new names", async () => {
    cluster.setObjects(existing(first));
    const moved = await render({ kubeconfig, values: { domain: "pacs.example" } });
    expect(secretData(moved, "orthanc-ca")).toEqual(secretData(first, "orthanc-ca"));
    const leaf = cert(secretData(moved, "orthanc-tls")["tls.crt"]!);
    expect(leaf.subjectAltName).toBe("DNS:web.pacs.example, DNS:dicom.pacs.example");
    expect(leaf.verify(cert(secretData(first, "orthanc-ca")["tls.crt"]!).publicKey)).toBe(true);
  });

  it("upgrade past the leaf's renewal date: same CA, a fresh leaf", async () => {
    const [caSecret, leafSecret] = existing(first);
    const due = structuredClone(leafSecret!);
    as(due.metadata).annotations["korthweb/renew-after"] = String(Math.floor(Date.now() / 1000) - 60);
    cluster.setObjects([caSecret!, due]);
    const renewed = await render({ kubeconfig });
    expect(secretData(renewed, "orthanc-ca")).toEqual(secretData(first, "orthanc-ca"));
    expect(secretData(renewed, "orthanc-tls")["tls.crt"]).not.toBe(secretData(first, "orthanc-tls")["tls.crt"]);
    const renewAfter = Number(as(find(renewed, "Secret", "orthanc-tls").metadata).annotations["korthweb/renew-after"]);
    expect(renewAfter).toBeGreaterThan(Date.now() / 1000 + 300 * 86_400); // 397 − 30 days ahead
  });

  it("no Secrets in the cluster: a new CA (nothing is reused by accident)", async () => {
    cluster.setObjects([]);
    const fresh = await render({ kubeconfig });
    expect(secretData(fresh, "orthanc-ca")["tls.crt"]).not.toBe(secretData(first, "orthanc-ca")["tls.crt"]);
  });

  it("Istio: the Secrets are looked up and written in the gateway's namespace", async () => {
    const values = { ingress: { provider: "istio" } };
    const istioFirst = await render({ values });
    const moved = existing(istioFirst);
    for (const object of moved) expect(as(object.metadata).namespace).toBe("istio-ingress");
    cluster.setObjects(moved);
    const again = await render({ kubeconfig, values });
    expect(secretData(again, "orthanc-ca")).toEqual(secretData(istioFirst, "orthanc-ca"));
    expect(as(find(again, "ConfigMap", "orthanc-ca").metadata).namespace).toBe("orthanc");
  });

  it("credentials changing in their Secrets changes the pods' checksum (they roll)", async () => {
    const adminSecret = (password: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "orthanc-admin", namespace: "orthanc" },
      data: { username: Buffer.from("admin").toString("base64"), password: Buffer.from(password).toString("base64") },
    });
    const checksum = (objects: readonly KubeObject[]) => as(find(objects, "Deployment", "orthanc").spec).template.metadata.annotations["checksum/credentials"];
    cluster.setObjects([adminSecret("first1")]);
    const before = checksum(await render({ kubeconfig }));
    const same = checksum(await render({ kubeconfig }));
    cluster.setObjects([adminSecret("second2")]);
    const after = checksum(await render({ kubeconfig }));
    expect(same).toBe(before);
    expect(after).not.toBe(before);
  });
});
