// helm/orthanc passes `helm lint --strict` and the strict validator with its
// defaults and every values set in ci/; malformed values are refused with a
// message naming the field.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Helm } from "../../tasks/lib/helm.ts";
import { formatFinding } from "../../proving-ground/validate/finding.ts";
import { helmSources } from "../../proving-ground/validate/sources.ts";
import { validateSources } from "../../proving-ground/validate/validate.ts";
import { run } from "../../tasks/lib/exec.ts";
import { requireToolPath } from "../../tasks/lib/tools.ts";
import { chartDir, renderRaw } from "../helpers/chart.ts";

const valueSets = readdirSync(`${chartDir}/ci`).filter((name) => name.endsWith(".yaml")).sort();

describe("helm/orthanc hygiene", () => {
  it("has at least six values sets in ci/ besides the defaults", () => {
    expect(valueSets.length).toBeGreaterThanOrEqual(6);
  });

  it.each([["defaults"], ...valueSets.map((name) => [name])])("helm lint --strict with %s", async (name) => {
    const helm = new Helm({ context: undefined, dryRun: true });
    const output = await helm.lint(chartDir, name === "defaults" ? [] : [`${chartDir}/ci/${name}`]);
    expect(output).toContain("0 chart(s) failed");
    expect(output).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it("every render (defaults + ci/) is clean under the validator (schemas, policy, credentials)", async () => {
    const sources = helmSources().filter((source) => source.label.startsWith("helm template helm/orthanc "));
    expect(sources).toHaveLength(valueSets.length + 1);
    const results = await validateSources(sources);
    for (const result of results) expect(result.objects, result.source.label).toBeGreaterThan(8);
    expect(results.flatMap((result) => result.findings).map(formatFinding)).toEqual([]);
  });
});

describe("NOTES.txt (printed by helm install)", () => {
  const notes = async (valuesFile?: string) => {
    const args = ["install", "orthanc", chartDir, "--namespace", "orthanc", "--dry-run=client", ...(valuesFile ? ["-f", `${chartDir}/ci/${valuesFile}`] : [])];
    const { stdout } = await run(requireToolPath("helm"), args, { silent: true, env: { KUBECONFIG: "/nonexistent" } });
    return stdout.slice(stdout.indexOf("NOTES:"));
  };

  it("traefik: endpoints, where the address is, how to get the CA and credentials, how to check", async () => {
    const text = await notes();
    expect(text).toContain("https://web.korthweb.test/");
    expect(text).toContain("dicom.korthweb.test:11112, called AE title ORTHANC");
    expect(text).toContain("kubectl -n traefik get service traefik");
    expect(text).toContain("kubectl -n orthanc get configmap orthanc-ca -o jsonpath='{.data.ca\\.crt}'");
    expect(text).toContain("kubectl -n orthanc get secret orthanc-admin -o jsonpath='{.data.password}' | base64 -d");
    expect(text).toContain("helm test orthanc -n orthanc --logs");
  });

  it("istio with cert-manager: the gateway's Service, the CA from the Certificate's Secret", async () => {
    const text = await notes("istio-cert-manager.yaml");
    expect(text).toContain("https://web.bhc.korthweb.test/");
    expect(text).toContain("kubectl -n bhc-ingress get service bhc-ingress");
    expect(text).toContain("kubectl -n bhc-ingress get secret orthanc-tls -o jsonpath='{.data.ca\\.crt}' | base64 -d");
  });

  it("no ingress: how to port-forward", async () => {
    expect(await notes("no-ingress-external-db.yaml")).toContain("kubectl -n orthanc port-forward svc/orthanc 8042:8042");
  });
});

describe("helm/orthanc refuses malformed values, naming the field", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["a string where a count is expected", { replicaCount: "two" }, "at '/replicaCount': got string, want integer"],
    ["an unknown ingress provider", { ingress: { provider: "nginx" } }, "at '/ingress/provider': value must be one of 'traefik', 'istio', 'none'"],
    ["a misspelt key", { databse: { host: "x" } }, "additional properties 'databse' not allowed"],
    ["a nested misspelt key", { tls: { generate: { validity: 30 } } }, "at '/tls/generate': additional properties 'validity' not allowed"],
    ["an image without a pinned tag", { image: { tag: "latest" } }, "at '/image/tag'"],
    ["an AE title longer than 16", { orthanc: { aet: "A_VERY_LONG_AE_TITLE" } }, "at '/orthanc/aet'"],
    ["a port out of range", { database: { port: 70000 } }, "at '/database/port'"],
    ["a domain that is not a DNS name", { domain: "Not A Domain" }, "at '/domain'"],
    ["an sslMode the plugin cannot do", { database: { sslMode: "verify-full" } }, "at '/database/sslMode'"],
    ["a scrape scheme other than http or https", { metrics: { serviceMonitor: { scheme: "ftp" } } }, "at '/metrics/serviceMonitor/scheme': value must be one of 'http', 'https'"],
    ["a scrape TLS key prometheus-operator does not know", { metrics: { serviceMonitor: { scheme: "https", tlsConfig: { cafile: "/ca.pem" } } } }, "at '/metrics/serviceMonitor/tlsConfig': additional properties 'cafile' not allowed"],
    ["a client certificate without its key", { metrics: { serviceMonitor: { scheme: "https", tlsConfig: { certFile: "/cert.pem" } } } }, "properties 'keyFile' required, if 'certFile' exists"],
    ["insecureSkipVerify as a string", { metrics: { serviceMonitor: { scheme: "https", tlsConfig: { insecureSkipVerify: "skip" } } } }, "at '/metrics/serviceMonitor/tlsConfig/insecureSkipVerify': got string, want boolean"],
  ];
  it.each(cases)("%s", async (_label, values, message) => {
    const result = await renderRaw({ values });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  const templateCases: [string, Record<string, unknown>, string][] = [
    ["existingSecret mode without a Secret name", { tls: { mode: "existingSecret" } }, "tls.secretName: required when tls.mode is existingSecret"],
    ["certManager mode without an issuer", { tls: { mode: "certManager" } }, "tls.certManager.issuerRef.name: required"],
    ["istio without a Gateway to attach to", { ingress: { provider: "istio", istio: { createGateway: false } } }, "ingress.istio.existingGateway: required"],
    ["a Gateway namespace for a Gateway the chart does not create", { ingress: { provider: "istio", istio: { createGateway: false, existingGateway: "istio-ingress/shared", gatewayResourceNamespace: "istio-ingress" } } }, "ingress.istio.gatewayResourceNamespace: only used when ingress.istio.createGateway is true"],
    ["HPA minimum above maximum", { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } }, "autoscaling.minReplicas: must not exceed"],
    ["renewal window longer than the validity", { tls: { generate: { validityDays: 10, renewBeforeDays: 30 } } }, "tls.generate.renewBeforeDays"],
    ["scrape TLS settings on a plain-HTTP scrape", { metrics: { serviceMonitor: { enabled: true, tlsConfig: { caFile: "/ca.pem" } } } }, "metrics.serviceMonitor.tlsConfig: only used with metrics.serviceMonitor.scheme https"],
  ];
  it.each(templateCases)("%s", async (_label, values, message) => {
    const result = await renderRaw({ values });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(message);
  });
});
