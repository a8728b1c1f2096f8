// tasks/lib/secrets.ts: the generator the three approaches share, and
// ensureSecret against a (fake) API server with the real kubectl: creates a
// missing Secret, keeps a present one untouched, refuses one Orthanc could
// not use, naming the Secret and key.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Kube } from "../../tasks/lib/kube.ts";
import { ensureSecret, isAlphanumeric, randomAlphanumeric, type SecretSpec } from "../../tasks/lib/secrets.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { startFakeCluster, type FakeCluster } from "../helpers/fake-cluster.ts";
import { useCapturedLog } from "../helpers/log.ts";

useCapturedLog();

describe("randomAlphanumeric", () => {
  it("gives the asked length (32 by default) of letters and digits only, different each time", () => {
    const values = Array.from({ length: 50 }, () => randomAlphanumeric());
    for (const value of values) expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(values).size).toBe(values.length);
    expect(randomAlphanumeric(8)).toMatch(/^[A-Za-z0-9]{8}$/);
    // Over many characters every class shows up: the alphabet is not truncated.
    const long = randomAlphanumeric(4000);
    for (const pattern of [/[A-Z]/, /[a-z]/, /[0-9]/]) expect(long).toMatch(pattern);
  });

  it("isAlphanumeric refuses what would break Orthanc's JSON substitution", () => {
    expect(isAlphanumeric("abcXYZ019")).toBe(true);
    for (const value of ["", 'pa"ss', "back\\slash", "with space", "ünïcode"]) expect(isAlphanumeric(value), value).toBe(false);
  });
});

describe("ensureSecret (real kubectl, fake API server)", () => {
  let cluster: FakeCluster;
  const savedKubeconfig = process.env.KUBECONFIG;
  const spec: SecretSpec = { name: "orthanc-admin", keys: { username: () => "admin", password: () => randomAlphanumeric() } };
  const b64 = (value: string) => Buffer.from(value).toString("base64");
  const secret = (data: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "orthanc-admin", namespace: "orthanc" },
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, b64(value)])),
  });
  const kube = () => new Kube({ context: undefined, dryRun: false });
  beforeAll(async () => {
    cluster = await startFakeCluster();
  });
  afterAll(async () => {
    await cluster?.close();
  });
  afterEach(() => {
    process.env.KUBECONFIG = savedKubeconfig;
  });

  it("creates a missing Secret with every key generated, then keeps it on the next call", async () => {
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    cluster.setObjects([]);
    expect(await ensureSecret(kube(), "orthanc", spec)).toBe("created");
    const stored = cluster.objects().find((o) => o.kind === "Secret" && o.metadata?.name === "orthanc-admin");
    expect(stored?.metadata).toMatchObject({ namespace: "orthanc", labels: { "app.kubernetes.io/part-of": "korthweb" } });
    const data = Object.fromEntries(Object.entries(stored!.data as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, "base64").toString()]));
    expect(data.username).toBe("admin");
    expect(data.password).toMatch(/^[A-Za-z0-9]{32}$/);
    cluster.requests.length = 0;
    expect(await ensureSecret(kube(), "orthanc", spec)).toBe("kept");
    expect(cluster.requests.filter((line) => !line.startsWith("GET "))).toEqual([]);
  });

  it("refuses an existing Secret that lacks a key, or holds a value Orthanc cannot substitute (exit 10)", async () => {
    process.env.KUBECONFIG = writeKubeconfig(cluster.url);
    cluster.setObjects([secret({ username: "admin" })]);
    await expect(ensureSecret(kube(), "orthanc", spec)).rejects.toMatchObject({ exitCode: 10, message: "Secret orthanc/orthanc-admin exists but has no key password" });
    cluster.setObjects([secret({ username: "admin", password: 'pa"ss' })]);
    await expect(ensureSecret(kube(), "orthanc", spec)).rejects.toMatchObject({ exitCode: 10, message: "Secret orthanc/orthanc-admin key password is not alphanumeric" });
  });
});
