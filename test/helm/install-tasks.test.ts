// The helm approach's install and uninstall steps: the whole sequence in
// --dry-run prints the ordered plan and the manifests with no cluster (and no
// secret in the output); steps that read the cluster are run with the real
// kubectl against a fake API server.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../tasks/lib/settings.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { task as preflightTask } from "../../tasks/helm/01-preflight.ts";
import { requireSecrets, secretSpecs, task as credentialsTask } from "../../tasks/helm/02-credentials.ts";
import { Kube } from "../../tasks/lib/kube.ts";
import { installSteps } from "../../tasks/helm/install.ts";
import { uninstallSteps } from "../../tasks/helm/uninstall.ts";
import { summaryLines } from "../../tasks/helm/07-summary.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";
import { useCapturedLog } from "../helpers/log.ts";
import { scratchDir } from "../helpers/scratch.ts";

const lines = useCapturedLog();
const output = () => lines.join("\n");
const savedKubeconfig = process.env.KUBECONFIG;
afterEach(() => {
  process.env.KUBECONFIG = savedKubeconfig;
});

describe("helm-install --dry-run (no cluster)", () => {
  beforeEach(() => {
    process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1"); // nothing answers there
  });

  it("prints the seven steps in order, then each step's actions, and exits 0", async () => {
    const code = await runTasks("helm-install", installSteps, ["--dry-run"]);
    expect(code, output()).toBe(0);
    const text = output();
    const order = [
      "1. Preflight",
      "2. Namespace and credential Secrets",
      "3. Traefik",
      "4. PostgreSQL",
      "5. Orthanc",
      "6. Wait for Orthanc",
      "7. Summary",
      "▶ 1/7 Preflight",
      "would check: kube context set",
      "would apply (server-side) namespace orthanc: Namespace orthanc",
      "would create Secret orthanc/orthanc-admin (keys username, password; random alphanumeric values) unless it exists",
      "would run: helm upgrade --install traefik oci://ghcr.io/traefik/helm/traefik --version 41.7.1 --namespace traefik --create-namespace -f",
      "would wait for CRDs ingressroutes.traefik.io",
      "would run: helm upgrade --install orthanc-db oci://registry-1.docker.io/bitnamicharts/postgresql --version 16.7.27 --namespace orthanc -f",
      "would wait for StatefulSet orthanc/orthanc-db-postgresql to roll out",
      "helm/orthanc renders",
      "kind: IngressRouteTCP",
      "would run: helm upgrade --install orthanc",
      "would wait for Deployment orthanc/orthanc to roll out",
      "Next: make smoke",
    ];
    let at = 0;
    for (const part of order) {
      const found = text.indexOf(part, at);
      expect(found, `"${part}" after position ${at}`).toBeGreaterThanOrEqual(at);
      at = found;
    }
  });

  it("prints the rendered manifests: routes on 443 and 11112, TLS floor, with Secret data redacted", async () => {
    await runTasks("helm-install", installSteps, ["--dry-run", "--domain", "pacs.example"]);
    const text = output();
    expect(text).toContain("match: Host(`web.pacs.example`)");
    expect(text).toContain("match: HostSNI(`*`)");
    expect(text).toContain("minVersion: VersionTLS12");
    expect(text).toContain("tls.key: <redacted>");
    expect(text).not.toMatch(/LS0tLS1CRUdJT/); // base64 of "-----BEGIN": no certificate or key material
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text).toContain("--set-string domain=pacs.example");
  });

  it("takes the user's values file for helm/orthanc (--values), and refuses a missing one (exit 2)", async () => {
    const file = join(scratchDir("korthweb-values-"), "mine.yaml");
    writeFileSync(file, "orthanc:\n  aet: PACS01\n");
    expect(await runTasks("helm-install", installSteps, ["--dry-run", "--values", file])).toBe(0);
    expect(output()).toContain('"DicomAet": "PACS01"');
    expect(output()).toContain(`-f ${file}`);
    lines.length = 0;
    expect(await runTasks("helm-install", installSteps, ["--dry-run", "--values", "/nonexistent/values.yaml"])).toBe(2);
    expect(output()).toContain("--values /nonexistent/values.yaml: no such file");
  });

  it("helm-uninstall --dry-run keeps the database unless --purge", async () => {
    expect(await runTasks("helm-uninstall", uninstallSteps, ["--dry-run"])).toBe(0);
    expect(output()).toContain("would run: helm uninstall orthanc --namespace orthanc");
    expect(output()).toContain("kept: the database volume (PVCs of orthanc-db) and Secrets orthanc-admin, orthanc-db");
    expect(output()).not.toContain("would delete");
    lines.length = 0;
    expect(await runTasks("helm-uninstall", uninstallSteps, ["--dry-run", "--purge"])).toBe(0);
    const purge = output();
    expect(purge).toContain("would delete the PersistentVolumeClaims labelled app.kubernetes.io/instance=orthanc-db in orthanc");
    expect(purge).toContain("would delete secret orthanc/orthanc-db");
    expect(purge).toContain("would delete namespace orthanc");
    expect(purge.indexOf("helm uninstall orthanc ")).toBeLessThan(purge.indexOf("helm uninstall orthanc-db"));
    expect(purge.indexOf("helm uninstall orthanc-db")).toBeLessThan(purge.indexOf("helm uninstall traefik"));
  });
});

describe("steps that read the cluster (real kubectl, fake API server)", () => {
  let cluster: FakeCluster;
  const b64 = (value: string) => Buffer.from(value).toString("base64");
  const secret = (name: string, data: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "orthanc" },
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, b64(value)])),
  });
  beforeAll(async () => {
    cluster = await startFakeCluster();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it("credentials: first run creates the namespace and random alphanumeric Secrets; a re-run keeps them; no value is printed", async () => {
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    cluster.setObjects([]);
    expect(await runTasks(credentialsTask.id, [credentialsTask], []), output()).toBe(0);
    const stored = (name: string) => {
      const found = cluster.objects().find((object) => object.kind === "Secret" && object.metadata?.name === name);
      expect(found, `Secret ${name}`).toBeDefined();
      return Object.fromEntries(Object.entries(found!.data as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, "base64").toString()]));
    };
    const namespace = cluster.objects().find((object) => object.kind === "Namespace");
    expect(namespace?.metadata?.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    const admin = stored("orthanc-admin");
    const database = stored("orthanc-db");
    expect(admin.username).toBe("admin");
    for (const value of [admin.password, database.password, database["postgres-password"]]) expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set([admin.password, database.password, database["postgres-password"]]).size).toBe(3);
    expect(output()).toContain("Secret orthanc/orthanc-admin created with random values");
    for (const value of [admin.password!, database.password!, database["postgres-password"]!]) expect(output()).not.toContain(value);

    lines.length = 0;
    cluster.requests.length = 0;
    expect(await runTasks(credentialsTask.id, [credentialsTask], []), output()).toBe(0);
    expect(output()).toContain("Secret orthanc/orthanc-db exists: kept as is");
    expect(stored("orthanc-admin")).toEqual(admin);
    expect(stored("orthanc-db")).toEqual(database);
    expect(cluster.requests.filter((line) => line.startsWith("PATCH "))).toEqual(["PATCH /api/v1/namespaces/orthanc"]);
  });

  it("credentials: a Secret missing a key stops the step (exit 10) naming it", async () => {
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    cluster.setObjects([secret("orthanc-db", { password: "x1" })]);
    expect(await runTasks(credentialsTask.id, [credentialsTask], [])).toBe(10);
    expect(output()).toContain("Secret orthanc/orthanc-db exists but has no key postgres-password");
    expect(secretSpecs.map((spec) => spec.name)).toEqual(["orthanc-admin", "orthanc-db"]);
  });

  it("steps that need the Secrets stop early, naming the missing one and the step that makes it", async () => {
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    cluster.setObjects([secret("orthanc-admin", { username: "admin", password: "x1" })]);
    const kube = new Kube({ context: undefined, dryRun: false });
    await expect(requireSecrets(kube, "orthanc", ["orthanc-admin", "orthanc-db"])).rejects.toMatchObject({
      message: "Secret orthanc/orthanc-db does not exist",
      hint: expect.stringContaining("tasks/helm/02-credentials.ts"),
    });
    await expect(requireSecrets(kube, "orthanc", ["orthanc-admin"])).resolves.toBeUndefined();
  });

  it("credentials step --dry-run names the Secrets and prints no value", async () => {
    expect(await runTasks(credentialsTask.id, [credentialsTask], ["--dry-run"])).toBe(0);
    expect(output()).toContain("would create Secret orthanc/orthanc-db (keys password, postgres-password; random alphanumeric values) unless it exists");
    expect(output()).not.toContain("stringData");
  });

  it("preflight passes on a clean cluster and refuses a TLSStore named default in another namespace (exit 10)", async () => {
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    cluster.setObjects([]);
    expect(await runTasks(preflightTask.id, [preflightTask], []), output()).toBe(0);
    expect(output()).toContain("no competing Traefik TLSStore/TLSOption named default");
    cluster.setObjects([{ apiVersion: "traefik.io/v1alpha1", kind: "TLSStore", metadata: { name: "default", namespace: "kube-system" } }]);
    expect(await runTasks(preflightTask.id, [preflightTask], [])).toBe(10);
    expect(output()).toContain("the cluster already has tlsstores kube-system/default");
    cluster.setObjects([{ apiVersion: "traefik.io/v1alpha1", kind: "TLSStore", metadata: { name: "default", namespace: "orthanc" } }]);
    expect(await runTasks(preflightTask.id, [preflightTask], [])).toBe(0); // ours, from a previous install
  });

  it("preflight accepts another namespace's TLSStore default when --values turns the chart's off, and still checks the TLSOption", async () => {
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    const values = join(scratchDir("korthweb-values-"), "values.yaml");
    writeFileSync(values, "ingress:\n  traefik:\n    tlsStore:\n      create: false\n");
    cluster.setObjects([{ apiVersion: "traefik.io/v1alpha1", kind: "TLSStore", metadata: { name: "default", namespace: "kube-system" } }]);
    expect(await runTasks(preflightTask.id, [preflightTask], ["--values", values]), output()).toBe(0);
    cluster.setObjects([{ apiVersion: "traefik.io/v1alpha1", kind: "TLSOption", metadata: { name: "default", namespace: "kube-system" } }]);
    expect(await runTasks(preflightTask.id, [preflightTask], ["--values", values])).toBe(10);
    expect(output()).toContain("the cluster already has tlsoptions kube-system/default");
  });
});

describe("summary", () => {
  it("shows the LoadBalancer address and the /etc/hosts line when there is one", () => {
    const settings = loadSettings({}, { domain: "pacs.example" });
    const text = summaryLines(settings, "203.0.113.7").join("\n");
    expect(text).toContain("https://web.pacs.example/");
    expect(text).toContain("203.0.113.7 web.pacs.example dicom.pacs.example");
    expect(text).toContain("kubectl -n orthanc get configmap orthanc-ca");
    expect(text).toContain("make smoke");
    expect(summaryLines(settings, undefined).join("\n")).toContain("no LoadBalancer address yet");
  });
});
