// What the stand-in proxy must enforce, read from the chart's own render: the
// Traefik TLSOptions of the web route (443) and of the DICOM route (11112) —
// minimum TLS version, TLS 1.2 cipher suites, and whether a client certificate
// is required — so the local stack proves the policy the chart ships rather
// than a copy of it.
import { TaskError } from "../../tasks/lib/errors.ts";
import type { KubeObject } from "../../tasks/lib/manifests.ts";

export type ClientAuth = "required" | "optional" | "none";

export interface PortPolicy {
  minVersion: "TLSv1.2" | "TLSv1.3";
  /** TLS 1.2 suites in OpenSSL's names; empty with TLS 1.3 only. */
  ciphers: string[];
  clientAuth: ClientAuth;
}

export interface IngressPolicy {
  web: PortPolicy;
  dicom: PortPolicy;
}

/** Go's (Traefik's) names of the BCP 195 suites → OpenSSL's (haproxy's, Envoy's). */
const opensslNames: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
};

interface OptionSpec {
  minVersion?: string;
  cipherSuites?: string[];
  clientAuth?: { clientAuthType?: string; secretNames?: string[] };
}

function portPolicy(spec: OptionSpec, where: string): PortPolicy {
  const minVersion = spec.minVersion === "VersionTLS13" ? "TLSv1.3" : spec.minVersion === "VersionTLS12" ? "TLSv1.2" : undefined;
  if (!minVersion) throw new TaskError(`${where}: minVersion ${JSON.stringify(spec.minVersion)} is neither VersionTLS12 nor VersionTLS13`, { code: "invalidValues" });
  const ciphers = (spec.cipherSuites ?? []).map((suite) => {
    const name = opensslNames[suite];
    if (!name) throw new TaskError(`${where}: cipher suite ${suite} has no OpenSSL name known to the local stack`, { code: "invalidValues", hint: `known: ${Object.keys(opensslNames).join(", ")}` });
    return name;
  });
  if (minVersion === "TLSv1.2" && ciphers.length === 0) throw new TaskError(`${where}: TLS 1.2 without cipherSuites would accept OpenSSL's defaults`, { code: "invalidValues" });
  const type = spec.clientAuth?.clientAuthType;
  const clientAuth: ClientAuth = !spec.clientAuth ? "none" : type === "RequireAndVerifyClientCert" ? "required" : type === "VerifyClientCertIfGiven" ? "optional" : "none";
  if (spec.clientAuth && clientAuth === "none") throw new TaskError(`${where}: clientAuthType ${JSON.stringify(type)} is not one the chart renders`, { code: "invalidValues" });
  return { minVersion, ciphers, clientAuth };
}

/** The policies of routes <release>-web and <release>-dicom in a render with ingress.provider traefik. */
export function ingressPolicy(objects: readonly KubeObject[], release: string, source: string): IngressPolicy {
  const optionOf = (kind: string, name: string): PortPolicy => {
    const route = objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (!route) throw new TaskError(`${source} rendered no ${kind} ${name}`, { code: "invalidValues", hint: "the local stack renders the chart with ingress.provider traefik" });
    const optionName = (route.spec as { tls?: { options?: { name?: string } } } | undefined)?.tls?.options?.name ?? "default";
    const option = objects.find((o) => o.kind === "TLSOption" && o.metadata?.name === optionName);
    if (!option) throw new TaskError(`${source}: ${kind} ${name} uses TLSOption ${optionName}, which it does not render`, { code: "invalidValues", hint: "keep ingress.traefik.tlsOption.create for the local stack" });
    return portPolicy((option.spec ?? {}) as OptionSpec, `TLSOption ${optionName} (${source})`);
  };
  return { web: optionOf("IngressRoute", `${release}-web`), dicom: optionOf("IngressRouteTCP", `${release}-dicom`) };
}
