// Steps that talk to a cluster, run for real with kubectl against the
// stand-in API server (test/helpers/fake-cluster.ts): what they apply arrives
// as committed, what they check is read from the cluster, and deleting a kind
// whose CRD is gone is not an error.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Helm } from "../../tasks/lib/helm.ts";
import { Kube } from "../../tasks/lib/kube.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { loadSettings } from "../../tasks/lib/settings.ts";
import type { TaskContext } from "../../tasks/lib/task.ts";
import { deleteFile, readObjects } from "../../tasks/manual/apply.ts";
import { task as routing } from "../../tasks/manual/06-routing.ts";
import { task as security } from "../../tasks/manual/07-security.ts";
import { task as verify } from "../../tasks/manual/09-verify.ts";
import { files } from "../../tasks/manual/layout.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { commonKinds, startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";
import { useCapturedLog } from "../helpers/log.ts";

const lines = useCapturedLog();
const savedKubeconfig = process.env.KUBECONFIG;
let cluster: FakeCluster;

const context = (): TaskContext => ({
  settings: { ...loadSettings({}), timeoutSeconds: 5 },
  dryRun: false,
  flags: {},
  kube: new Kube({ context: undefined, dryRun: false }),
  helm: new Helm({ context: undefined, dryRun: false }),
});

const b64 = (text: string) => Buffer.from(text).toString("base64");
const tlsSecret: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "orthanc-tls", namespace: "istio-ingress" }, data: { "tls.crt": b64("crt"), "tls.key": b64("key"), "ca.crt": b64("ca") } };
const gatewayService = (ports: number[]): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "istio-ingress", namespace: "istio-ingress" },
  spec: { ports: ports.map((port) => ({ port })) },
  status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } },
});
const stored = (kind: string) => cluster.objects().filter((o) => o.kind === kind);
const strip = (o: KubeObject) => ({ kind: o.kind, name: o.metadata?.name, namespace: o.metadata?.namespace, spec: o.spec });

beforeAll(async () => {
  cluster = await startFakeCluster({
    kinds: [
      ...commonKinds,
      { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication" },
      { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy" },
    ],
  });
  process.env.KUBECONFIG = writeKubeconfig(cluster.url);
});
afterAll(async () => {
  process.env.KUBECONFIG = savedKubeconfig;
  await cluster?.close();
});
afterEach(() => cluster.setObjects([]));

describe("step 6 (routing) against an API server", () => {
  it("applies the Gateway and VirtualServices as committed, finds the certificate and the ports, prints the address", async () => {
    cluster.setObjects([tlsSecret, gatewayService([15021, 443, 11112])]);
    await routing.run(context());
    expect(stored("Gateway").map(strip)).toEqual(readObjects(files.routing).filter((o) => o.kind === "Gateway").map(strip));
    expect(stored("VirtualService")).toHaveLength(2);
    const text = lines.join("\n");
    expect(text).toContain("certificate Secret istio-ingress/orthanc-tls present");
    expect(text).toContain("gateway address 203.0.113.7: point web.korthweb.test and dicom.korthweb.test at it");
  });

  it("stops when the gateway Service lacks 11112, or the certificate is missing, saying what to do", async () => {
    cluster.setObjects([tlsSecret, gatewayService([443])]);
    await expect(routing.run(context())).rejects.toThrow("gateway Service istio-ingress/istio-ingress does not expose 11112");
    cluster.setObjects([gatewayService([443, 11112])]);
    await expect(routing.run(context())).rejects.toMatchObject({ message: expect.stringContaining("Secret istio-ingress/orthanc-tls (the gateway's certificate) is missing"), hint: expect.stringContaining("03-cert-manager") });
  });
});

describe("step 7 (security) against an API server", () => {
  it("applies the PeerAuthentication and every AuthorizationPolicy exactly as committed", async () => {
    await security.run(context());
    const committed = [...readObjects(files.peerAuthentication), ...readObjects(files.authorizationPolicies)].map(strip);
    const applied = [...stored("PeerAuthentication"), ...stored("AuthorizationPolicy")].map(strip);
    const key = (o: ReturnType<typeof strip>) => `${o.kind}/${o.namespace}/${o.name}`;
    expect(applied.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(committed.sort((a, b) => key(a).localeCompare(key(b))));
  });
});

describe("step 9 (verify) against an API server", () => {
  it("stops before the smoke suite when a pod runs without its Istio proxy", async () => {
    const pod = (name: string, containers: string[]): KubeObject => ({
      apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "orthanc" }, spec: { containers: containers.map((c) => ({ name: c })) }, status: { phase: "Running" },
    });
    cluster.setObjects([pod("orthanc-1", ["orthanc", "istio-proxy"]), pod("orthanc-2", ["orthanc"])]);
    await expect(verify.run(context())).rejects.toMatchObject({ message: "pods without an Istio proxy in orthanc: orthanc-2", hint: expect.stringContaining("rollout restart") });
  });
});

describe("uninstall's delete", () => {
  it("treats kinds whose CRD is gone as nothing to delete", async () => {
    await expect(deleteFile(new Kube({ context: undefined, dryRun: false }), files.kiali)).resolves.toBeUndefined();
  });
});
