// The certificate chain: every issuerRef and Secret reference resolves,
// SelfSigned → CA (isCA) → CA issuer → the gateway's leaf for both hostnames.
import { describe, expect, it } from "vitest";
import { hostnames } from "../../tasks/lib/settings.ts";
import { files, namespaces, secrets } from "../../tasks/manual/layout.ts";
import { smokeDefaults } from "../../tasks/manual/09-verify.ts";
import { readFileSync } from "node:fs";
import { parseManifests } from "../../tasks/lib/manifests.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { allObjects, copy, named, values } from "./manual-files.ts";
import { certificateProblems } from "./checks.ts";
import { caKeyProblems } from "../helpers/certificates.ts";

const objects = allObjects();
const orthancValues = values(files.orthancValues);
const options = {
  clusterResourceNamespace: namespaces.certManager,
  gatewayNamespace: orthancValues.ingress.istio.gatewayNamespace,
  hostnames: Object.values(hostnames(orthancValues.domain)),
};

describe("certificate chain", () => {
  it("resolves every reference and covers both hostnames", () => {
    expect(certificateProblems(objects, options)).toEqual([]);
  });

  it("is SelfSigned → CA Certificate (isCA) → CA ClusterIssuer → leaf in the gateway's namespace", () => {
    expect(named(objects, "ClusterIssuer", "korthweb-selfsigned").spec).toEqual({ selfSigned: {} });
    const ca = named(objects, "Certificate", "korthweb-ca", namespaces.certManager);
    expect(ca.spec).toMatchObject({ isCA: true, secretName: "korthweb-ca", issuerRef: { kind: "ClusterIssuer", name: "korthweb-selfsigned" } });
    expect(named(objects, "ClusterIssuer", "korthweb-ca").spec).toEqual({ ca: { secretName: "korthweb-ca" } });
    const leaf = named(objects, "Certificate", "orthanc-tls", secrets.tls.namespace);
    expect(leaf.spec).toMatchObject({ secretName: secrets.tls.name, issuerRef: { kind: "ClusterIssuer", name: "korthweb-ca" } });
    expect(leaf.spec.isCA).toBeUndefined();
    expect(leaf.spec.dnsNames).toEqual(["web.korthweb.test", "dicom.korthweb.test"]);
  });

  it("keeps the CA's key on renewal, with the same key settings as the gitops CA", () => {
    expect(caKeyProblems(objects)).toEqual([]);
    const gitopsFile = fromRoot("gitops", "infrastructure", "configs", "ca-issuer.yaml");
    const gitopsCa = parseManifests(readFileSync(gitopsFile, "utf8"), gitopsFile).map((item) => item.object as any).find((o) => o.kind === "Certificate" && o.spec.isCA);
    expect(named(objects, "Certificate", "korthweb-ca", namespaces.certManager).spec.privateKey).toEqual(gitopsCa.spec.privateKey);
    // cert-manager's default (Always) is what the rule catches.
    const rotating = copy(objects) as any[];
    delete rotating.find((o) => o.kind === "Certificate" && o.metadata.name === "korthweb-ca").spec.privateKey.rotationPolicy;
    expect(caKeyProblems(rotating)).toEqual(["Certificate cert-manager/korthweb-ca: a CA whose privateKey.rotationPolicy is not Never gets a new key at each renewal"]);
  });

  it("is what the chart references and what the smoke suite trusts", () => {
    expect(orthancValues.tls).toEqual({ mode: "existingSecret", secretName: secrets.tls.name });
    expect(smokeDefaults["ca-secret"]).toBe(`${secrets.tls.namespace}/${secrets.tls.name}`);
  });

  it("reports broken copies: unknown issuer, CA Secret nobody issues, leaf in the wrong namespace, missing hostname", () => {
    const broken = (change: (items: any[]) => void) => {
      const items = copy(objects) as any[];
      change(items);
      return certificateProblems(items, options).join("\n");
    };
    const find = (items: any[], kind: string, name: string) => items.find((o) => o.kind === kind && o.metadata.name === name);
    expect(broken((items) => (find(items, "Certificate", "orthanc-tls").spec.issuerRef.name = "korthweb-cA"))).toMatch(/issuerRef ClusterIssuer korthweb-cA is not defined/);
    expect(broken((items) => (find(items, "ClusterIssuer", "korthweb-ca").spec.ca.secretName = "ca-key-pair"))).toMatch(/CA Secret cert-manager\/ca-key-pair is issued by no Certificate/);
    expect(broken((items) => (find(items, "Certificate", "korthweb-ca").spec.isCA = false))).toMatch(/is not a CA/);
    expect(broken((items) => (find(items, "Certificate", "orthanc-tls").metadata.namespace = "orthanc"))).toMatch(/credentialName orthanc-tls is issued by no Certificate in istio-ingress/);
    expect(broken((items) => (find(items, "Certificate", "orthanc-tls").spec.dnsNames = ["web.korthweb.test"]))).toMatch(/lacks dicom.korthweb.test/);
    expect(broken((items) => (find(items, "Certificate", "orthanc-tls").spec.issuerRef = { name: "korthweb-ca", kind: "Issuer" }))).toMatch(/issuerRef Issuer korthweb-ca is not defined/);
  });
});
