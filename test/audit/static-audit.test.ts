// The offline audit: quiet on the approaches as they are, and each rule fires
// on a copy broken the way it is meant to catch.
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { allInstallations, type Installation } from "../../proving-ground/audit/installations.ts";
import { auditInstallation } from "../../proving-ground/audit/static-audit.ts";

let installations: Installation[];
const byApproach = (name: string) => structuredClone(installations.find((i) => i.approach === name)!);
const rulesOf = (installation: Installation) => auditInstallation(installation).map((f) => `${f.rule}: ${f.path}: ${f.message}`);

describe("offline audit", () => {
  beforeAll(async () => {
    installations = await allInstallations();
  }, 120_000);

  it("covers the three approaches with their objects, Secrets and ingresses", () => {
    expect(installations.map((i) => i.approach)).toEqual(["helm", "manual", "gitops"]);
    for (const installation of installations) {
      expect(installation.objects.length, installation.approach).toBeGreaterThan(10);
      expect(installation.taskSecrets.length, installation.approach).toBeGreaterThan(0);
      expect(installation.exposures.length, installation.approach).toBeGreaterThan(0);
    }
    expect(byApproach("gitops").exposures.map((e) => e.label)).toEqual([expect.stringContaining("tenant bhc"), expect.stringContaining("tenant mhr")]);
  });

  it("finds nothing in the approaches as committed", () => {
    for (const installation of installations) expect(rulesOf(installation), installation.approach).toEqual([]);
  });

  it("reports a Secret that is read but that no task creates", () => {
    const helm = byApproach("helm");
    helm.taskSecrets = helm.taskSecrets.filter((s) => s !== "orthanc/orthanc-admin");
    const findings = rulesOf(helm);
    expect(findings).toContainEqual(expect.stringMatching(/^secret-ref: env ORTHANC_ADMIN_USERNAME: reads Secret orthanc\/orthanc-admin/));
    const manual = byApproach("manual");
    manual.taskSecrets = manual.taskSecrets.filter((s) => s !== "monitoring/grafana-admin");
    expect(rulesOf(manual)).toContainEqual(expect.stringMatching(/^secret-ref: values\.grafana\.admin\.existingSecret: chart reads Secret monitoring\/grafana-admin/));
  });

  it("reports a certificate Secret nobody issues", () => {
    const manual = byApproach("manual");
    manual.objects = manual.objects.filter((item) => item.object.kind !== "Certificate" || !JSON.stringify(item.object).includes("orthanc-tls"));
    expect(rulesOf(manual)).toContainEqual(expect.stringMatching(/^secret-ref: server 443 credentialName: reads Secret istio-ingress\/orthanc-tls/));
  });

  it("reports Traefik's plain web entrypoint exposed, and a TLS floor below 1.2", () => {
    const helm = byApproach("helm");
    const exposure = helm.exposures[0]!;
    if (exposure.ingress !== "traefik") throw new Error("expected Traefik");
    exposure.ports = { ...exposure.ports, web: { expose: { default: true } } };
    const option = exposure.objects.find((o) => o.kind === "TLSOption")!;
    (option.spec as { minVersion: string }).minVersion = "VersionTLS10";
    const findings = rulesOf(helm);
    expect(findings).toContainEqual(expect.stringMatching(/^exposure: ports\.web: entrypoint web \(port 80\) is exposed without TLS/));
    expect(findings).toContainEqual(expect.stringMatching(/^tls-version: spec\.minVersion: minVersion VersionTLS10/));
  });

  it("reports an Istio gateway port without a TLS server, and a server without a TLS floor", () => {
    const gitops = byApproach("gitops");
    const exposure = gitops.exposures[1]!;
    if (exposure.ingress !== "istio") throw new Error("expected Istio");
    exposure.servicePorts = [...exposure.servicePorts, { port: 80, targetPort: 80 }];
    const server = (exposure.gateways[0]!.spec as { servers: { tls: Record<string, unknown> }[] }).servers[0]!;
    delete server.tls.minProtocolVersion;
    const findings = rulesOf(gitops);
    expect(findings).toContainEqual(expect.stringMatching(/^exposure: service\.ports\[80\]: port 80 is exposed but no Gateway server terminates TLS/));
    expect(findings).toContainEqual(expect.stringMatching(/^tls-version: spec\.servers\[0\]\.tls\.minProtocolVersion: \(unset\) on port 443/));
  });

  it("reports a Service that bypasses the ingress, a privileged container and a literal password", () => {
    const helm = byApproach("helm");
    const service = helm.objects.find((item) => item.object.kind === "Service")!.object as KubeObject & { spec: Record<string, unknown> };
    service.spec.type = "LoadBalancer";
    const deployment = helm.objects.find((item) => item.object.kind === "Deployment")!.object as KubeObject & {
      spec: { template: { spec: { containers: { securityContext: Record<string, unknown>; env: unknown[] }[] } } };
    };
    const container = deployment.spec.template.spec.containers[0]!;
    container.securityContext.privileged = true;
    container.env.push({ name: "S3_SECRET_KEY", value: "plain-text" });
    const findings = rulesOf(helm);
    expect(findings).toContainEqual(expect.stringMatching(/^exposure: spec\.type: LoadBalancer Service bypasses the TLS ingress/));
    expect(findings).toContainEqual(expect.stringMatching(/^pod-security: .*securityContext\.privileged/));
    expect(findings).toContainEqual(expect.stringMatching(/^credentials: .*env\[\d+\]\.value: env S3_SECRET_KEY has a literal secret value/));
  });
});
