// `make audit`, offline half: for every approach as installed — no container
// as root, privileged, or with host access; every Secret read is created by
// the chart, cert-manager or a task; no credentials in ConfigMaps or env
// literals; every port exposed to the outside is TLS with a 1.2 floor — and
// the whole repository scanned for secret material.
import { describeObject } from "../../tasks/lib/manifests.ts";
import type { Finding } from "../validate/finding.ts";
import { checkPolicy } from "../validate/policy.ts";
import { plainEntryPoints, plainGatewayPorts, exposedEntryPoints } from "./exposure.ts";
import type { Installation } from "./installations.ts";
import { scanHistory, scanRepository } from "./repo-scan.ts";
import { createdSecrets, existingSecretsInValues, secretReferences } from "./secret-refs.ts";

export type AuditFinding = Omit<Finding, "rule"> & { rule: AuditRule; approach: string };
export type AuditRule = "pod-security" | "credentials" | "secret-ref" | "exposure" | "tls-version" | "repo-secret";

const strongTraefik = new Set(["VersionTLS12", "VersionTLS13"]);
const strongIstio = new Set(["TLSV1_2", "TLSV1_3"]);

/** Pod-security and credential findings of the validator's policy, for the objects as installed. */
function workloadFindings(installation: Installation): AuditFinding[] {
  return installation.objects.flatMap(({ object, source }) =>
    checkPolicy(object, { committed: false })
      .filter((issue) => issue.rule === "pod-security" || issue.rule === "credentials")
      .map((issue) => ({ ...issue, rule: issue.rule as AuditRule, file: source, object: describeObject(object), approach: installation.approach })),
  );
}

function secretFindings(installation: Installation): AuditFinding[] {
  const provided = createdSecrets(installation.objects.map((item) => item.object));
  for (const secret of installation.taskSecrets) provided.add(secret);
  const findings: AuditFinding[] = [];
  for (const { object, source } of installation.objects) {
    for (const ref of secretReferences(object)) {
      if (!provided.has(`${ref.namespace}/${ref.name}`)) {
        findings.push({
          approach: installation.approach,
          file: source,
          object: describeObject(object),
          path: ref.by.replace(/^\S+ \S+ /, ""),
          rule: "secret-ref",
          message: `reads Secret ${ref.namespace}/${ref.name}, which neither the approach's objects nor its tasks create`,
        });
      }
    }
  }
  for (const values of installation.upstreamValues) {
    for (const ref of existingSecretsInValues(values.values, values.namespace)) {
      if (!provided.has(`${ref.namespace}/${ref.name}`)) {
        findings.push({
          approach: installation.approach,
          file: values.label,
          object: "-",
          path: ref.by,
          rule: "secret-ref",
          message: `chart reads Secret ${ref.namespace}/${ref.name}, which no task creates`,
        });
      }
    }
  }
  return findings;
}

function exposureFindings(installation: Installation): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const add = (label: string, object: string, path: string, rule: AuditRule, message: string) =>
    findings.push({ approach: installation.approach, file: label, object, path, rule, message });
  for (const exposure of installation.exposures) {
    if (exposure.ingress === "traefik") {
      const exposed = exposedEntryPoints(exposure.ports);
      for (const name of plainEntryPoints(exposed, exposure.objects.filter((o) => o.kind === "IngressRoute" || o.kind === "IngressRouteTCP"))) {
        add(exposure.label, "-", `ports.${name}`, "exposure", `entrypoint ${name} (port ${exposed[name]?.exposedPort}) is exposed without TLS on every route`);
      }
      const options = exposure.objects.filter((o) => o.kind === "TLSOption");
      if (!options.some((o) => o.metadata?.name === "default")) {
        add(exposure.label, "-", "TLSOption default", "tls-version", "no TLSOption named default: routes and SNI-less clients get Traefik's built-in floor");
      }
      for (const option of options) {
        const min = (option.spec as { minVersion?: string } | undefined)?.minVersion;
        if (!min || !strongTraefik.has(min)) add(exposure.label, describeObject(option), "spec.minVersion", "tls-version", `minVersion ${min ?? "(unset)"}: must be VersionTLS12 or VersionTLS13`);
      }
    } else {
      for (const port of plainGatewayPorts(exposure.servicePorts, exposure.gateways)) {
        add(exposure.label, "-", `service.ports[${port}]`, "exposure", `port ${port} is exposed but no Gateway server terminates TLS on it`);
      }
      for (const gateway of exposure.gateways) {
        const servers = ((gateway.spec as { servers?: { port?: { number?: number }; tls?: { minProtocolVersion?: string } }[] })?.servers ?? []);
        servers.forEach((server, i) => {
          const min = server.tls?.minProtocolVersion;
          if (server.tls && (!min || !strongIstio.has(min))) {
            add(exposure.label, describeObject(gateway), `spec.servers[${i}].tls.minProtocolVersion`, "tls-version", `${min ?? "(unset)"} on port ${server.port?.number}: set TLSV1_2 or TLSV1_3`);
          }
        });
      }
    }
  }
  return findings;
}

/** Services of ours that reach outside the cluster other than through the ingress. */
function serviceFindings(installation: Installation): AuditFinding[] {
  return installation.objects
    .filter(({ object }) => object.kind === "Service" && ["LoadBalancer", "NodePort"].includes(String((object.spec as { type?: string })?.type)))
    .map(({ object, source }) => ({
      approach: installation.approach,
      file: source,
      object: describeObject(object),
      path: "spec.type",
      rule: "exposure" as const,
      message: `${String((object.spec as { type?: string }).type)} Service bypasses the TLS ingress`,
    }));
}

export function auditInstallation(installation: Installation): AuditFinding[] {
  return [...workloadFindings(installation), ...secretFindings(installation), ...exposureFindings(installation), ...serviceFindings(installation)];
}

export async function auditRepository(): Promise<AuditFinding[]> {
  const hits = [...(await scanRepository()), ...(await scanHistory())];
  return hits.map((hit) => ({ approach: "repository", file: `${hit.file}:${hit.line}`, object: "-", path: "-", rule: "repo-secret", message: hit.reason }));
}
