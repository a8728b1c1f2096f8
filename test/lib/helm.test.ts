import { describe, expect, it } from "vitest";
import { releaseFingerprint } from "../../tasks/lib/helm.ts";

describe("releaseFingerprint", () => {
  const release = {
    info: { status: "deployed" },
    manifest: "kind: Deployment\n",
    hooks: [{ manifest: "kind: Pod\nmetadata: {name: b}\n" }, { manifest: "kind: Pod\nmetadata: {name: a}\n" }],
    config: { domain: "korthweb.test", database: { host: "db", port: 5432 } },
  };

  it("ignores status, key order and hook order", () => {
    const same = {
      info: { status: "pending-upgrade" },
      manifest: "kind: Deployment\n",
      hooks: [...release.hooks].reverse(),
      config: { database: { port: 5432, host: "db" }, domain: "korthweb.test" },
    };
    expect(releaseFingerprint(same)).toBe(releaseFingerprint(release));
  });

  it("changes with the manifest, a hook or a value", () => {
    const base = releaseFingerprint(release);
    expect(releaseFingerprint({ ...release, manifest: "kind: Deployment\nspec: {replicas: 3}\n" })).not.toBe(base);
    expect(releaseFingerprint({ ...release, hooks: [{ manifest: "kind: Pod\n" }] })).not.toBe(base);
    expect(releaseFingerprint({ ...release, config: { ...release.config, domain: "other.test" } })).not.toBe(base);
  });
});
