// What helm/orthanc renders, object by object: the routes on 443 and 11112,
// TLS floor and default certificate for clients without SNI, Istio objects,
// the hardened pod, probes without credentials, the configuration contract
// the local stack relies on, and the knobs (HPA, PDB, NetworkPolicy).
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../tasks/lib/manifests.ts";
import { scanText } from "../../proving-ground/validate/credentials.ts";
import { as, find, ofKind, render, renderRaw } from "../helpers/chart.ts";

const deployment = (objects: readonly KubeObject[]) => find(objects, "Deployment", "orthanc");
const podSpec = (objects: readonly KubeObject[]) => as(deployment(objects).spec).template.spec;
const container = (objects: readonly KubeObject[]) => podSpec(objects).containers.find((c: { name: string }) => c.name === "orthanc");
const orthancJson = (objects: readonly KubeObject[], release = "orthanc") =>
  JSON.parse(as(find(objects, "ConfigMap", `${release}-config`).data)["orthanc.json"]) as Record<string, unknown>;

describe("helm/orthanc with default values (traefik)", () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await render();
  });

  it("routes HTTPS on websecure (443) by Host, with the chart's certificate", () => {
    const route = as(find(objects, "IngressRoute", "orthanc-web").spec);
    expect(route.entryPoints).toEqual(["websecure"]);
    expect(route.routes).toEqual([{ kind: "Rule", match: "Host(`web.korthweb.test`)", services: [{ name: "orthanc", port: 8042 }] }]);
    expect(route.tls).toEqual({ secretName: "orthanc-tls" });
  });

  it("routes DICOM-TLS on the dicom entrypoint (11112) with HostSNI(`*`), terminating TLS with its own option", () => {
    const route = as(find(objects, "IngressRouteTCP", "orthanc-dicom").spec);
    expect(route.entryPoints).toEqual(["dicom"]);
    expect(route.routes).toEqual([{ match: "HostSNI(`*`)", services: [{ name: "orthanc", port: 4242 }] }]);
    expect(route.tls).toEqual({ secretName: "orthanc-tls", options: { name: "orthanc-dicom", namespace: "orthanc" } });
    expect(route.tls.passthrough).toBeUndefined();
  });

  it("enforces TLS ≥ 1.2 with BCP 195 suites through the TLSOption named default, without sniStrict or client certificates", () => {
    const option = find(objects, "TLSOption", "default");
    expect(as(option.spec)).toEqual({ minVersion: "VersionTLS12", cipherSuites: expect.any(Array), sniStrict: false });
    expect(as(option.spec).cipherSuites).toHaveLength(6);
  });

  it("serves its certificate to clients without SNI: TLSStore default → orthanc-tls", () => {
    expect(as(find(objects, "TLSStore", "default").spec)).toEqual({ defaultCertificate: { secretName: "orthanc-tls" } });
  });

  it("CONTRACT: <release>-tls is a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt", () => {
    const secret = find(objects, "Secret", "orthanc-tls");
    expect(secret.type).toBe("kubernetes.io/tls");
    expect(Object.keys(as(secret.data)).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
  });

  it("runs Orthanc itself, non-root, read-only root, no capabilities, seccomp RuntimeDefault", () => {
    const pod = podSpec(objects);
    const c = container(objects);
    expect(c.command).toEqual(["Orthanc"]);
    expect(c.args).toEqual(["/etc/orthanc/"]);
    expect(c.image).toBe("orthancteam/orthanc:26.9.1");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, seccompProfile: { type: "RuntimeDefault" } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    const mounts = Object.fromEntries(c.volumeMounts.map((m: { mountPath: string; readOnly?: boolean }) => [m.mountPath, m.readOnly ?? false]));
    expect(mounts).toEqual({ "/etc/orthanc": true, "/etc/hostid": true, "/opt/korthweb": true, "/tmp": false, "/var/lib/orthanc/db": false });
    const writable = pod.volumes.filter((v: { emptyDir?: unknown }) => v.emptyDir).map((v: { name: string }) => v.name);
    expect(writable.sort()).toEqual(["pod-identity", "storage", "tmp"]);
  });

  it("probes: readiness reads /changes?last (database), liveness /tools/now (no database), no credentials in the spec", () => {
    const c = container(objects);
    expect(c.readinessProbe.exec.command).toEqual(["python3", "/opt/korthweb/probe.py", "/changes?last"]);
    expect(c.livenessProbe.exec.command).toEqual(["python3", "/opt/korthweb/probe.py", "/tools/now"]);
    expect(c.startupProbe.exec.command).toEqual(["python3", "/opt/korthweb/probe.py", "/tools/now"]);
    const literalEnv = c.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string }) => e.name);
    expect(literalEnv.sort()).toEqual(["ORTHANC_HTTP_PORT", "TCP_NODELAY"]);
    expect(c.env.find((e: { name: string }) => e.name === "TCP_NODELAY").value).toBe("1");
  });

  it("rolls safely: maxUnavailable 0, PDB, spread over nodes and zones, requests and limits", () => {
    const spec = as(deployment(objects).spec);
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(as(find(objects, "PodDisruptionBudget", "orthanc").spec).maxUnavailable).toBe(1);
    expect(podSpec(objects).topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual([
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
    ]);
    expect(container(objects).resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } });
  });

  it("CONTRACT: orthanc.json is complete, multi-replica safe, and every ${VAR} in it comes from the container env", () => {
    const config = orthancJson(objects);
    expect(config).toMatchObject({
      AuthenticationEnabled: true,
      RemoteAccessAllowed: true,
      DicomCheckCalledAet: true,
      MetricsEnabled: true,
      SaveJobs: false,
      DatabaseServerIdentifier: "korthweb-orthanc",
      DicomAet: "ORTHANC",
      DicomPort: 4242,
      HttpPort: 8042,
      RegisteredUsers: { "${ORTHANC_ADMIN_USERNAME}": "${ORTHANC_ADMIN_PASSWORD}" },
      PostgreSQL: { EnableIndex: true, EnableStorage: true, Lock: false, EnableSsl: true, Host: "orthanc-db-postgresql", Port: 5432, Password: "${ORTHANC_DB_PASSWORD}" },
      Plugins: ["/usr/share/orthanc/plugins-available/libOrthancPostgreSQLIndex.so", "/usr/share/orthanc/plugins-available/libOrthancPostgreSQLStorage.so"],
    });
    const text = as(find(objects, "ConfigMap", "orthanc-config").data)["orthanc.json"] as string;
    const used = new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]));
    const env = container(objects).env as { name: string; value?: string; valueFrom?: { secretKeyRef?: unknown } }[];
    for (const name of used) {
      const entry = env.find((e) => e.name === name);
      expect(entry, `env ${name}`).toBeDefined();
      expect(entry!.value !== undefined || entry!.valueFrom?.secretKeyRef !== undefined, `env ${name} is a value or a secretKeyRef`).toBe(true);
    }
    expect([...used].sort()).toEqual(["ORTHANC_ADMIN_PASSWORD", "ORTHANC_ADMIN_USERNAME", "ORTHANC_DB_PASSWORD"]);
  });

  it("no credential in any ConfigMap (the validator's credential scan finds nothing)", () => {
    const configMaps = ofKind(objects, "ConfigMap");
    expect(configMaps.map((c) => c.metadata?.name).sort()).toEqual(["orthanc-backup", "orthanc-ca", "orthanc-config", "orthanc-scripts"]);
    for (const configMap of configMaps) {
      for (const [key, value] of Object.entries(as<Record<string, string>>(configMap.data))) {
        expect(scanText(key, value), `${String(configMap.metadata?.name)}/${key}`).toEqual([]);
        expect(value).not.toMatch(/PRIVATE KEY/);
      }
    }
  });

  it("the credential scan would catch a literal password in orthanc.json (the check above can fail)", async () => {
    const leaky = await render({ values: { orthanc: { config: { RegisteredUsers: { admin: "hunter2" } } } } });
    const text = as(find(leaky, "ConfigMap", "orthanc-config").data)["orthanc.json"] as string;
    expect(scanText("orthanc.json", text).map((hit) => hit.path)).toContain("RegisteredUsers.admin");
  });

  it("NetworkPolicy: in from traefik only, out to PostgreSQL and DNS only", () => {
    const spec = as(find(objects, "NetworkPolicy", "orthanc").spec);
    expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values).toEqual(["traefik"]);
    expect(spec.ingress[0].ports.map((p: { port: number }) => p.port)).toEqual([8042, 4242]);
    // Scrape access is opt-in: no monitoring namespace by default.
    expect(spec.ingress).toHaveLength(1);
    expect(spec.egress).toHaveLength(2);
    expect(spec.egress[0].to[0].podSelector.matchLabels).toEqual({ "app.kubernetes.io/instance": "orthanc-db", "app.kubernetes.io/name": "postgresql" });
    expect(spec.egress[0].ports).toEqual([{ port: 5432, protocol: "TCP" }]);
    expect(spec.egress[1].ports.map((p: { port: number; protocol: string }) => `${p.port}/${p.protocol}`)).toEqual(["53/UDP", "53/TCP"]);
  });

  it("the helm test pod checks through Traefik with the chart's CA, no sidecar, credentials from the Secret", () => {
    const pod = find(objects, "Pod", "orthanc-test");
    expect(as(pod.metadata).annotations).toMatchObject({ "helm.sh/hook": "test", "sidecar.istio.io/inject": "false" });
    const c = as(pod.spec).containers[0];
    expect(c.args).toEqual([
      "--address=traefik.traefik.svc.cluster.local",
      "--web-host=web.korthweb.test",
      "--dicom-host=dicom.korthweb.test",
      "--aet=ORTHANC",
      "--client-auth=required",
      "--calling-aet=KORTHWEB-SMOKE",
      "--client-cert=/opt/korthweb-client/tls.crt",
      "--client-key=/opt/korthweb-client/tls.key",
      "--ca=/opt/korthweb-ca/ca.crt",
    ]);
    expect(as(pod.spec).volumes.find((v: { name: string }) => v.name === "client").secret.secretName).toBe("orthanc-smoke-client");
    expect(as(pod.spec).volumes.find((v: { name: string }) => v.name === "ca").configMap.name).toBe("orthanc-ca");
  });
});

describe("helm/orthanc configuration changes", () => {
  it("checksum/config changes when the configuration changes, and only then", async () => {
    const checksum = async (values?: Record<string, unknown>) =>
      as(deployment(await render(values ? { values } : {})).spec).template.metadata.annotations["checksum/config"] as string;
    const base = await checksum();
    expect(await checksum({ replicaCount: 3 })).toBe(base);
    expect(await checksum({ orthanc: { config: { StableAge: 30 } } })).not.toBe(base);
    expect(await checksum({ orthanc: { aet: "PACS" } })).not.toBe(base);
  });

  it("orthanc.config deep-merges: maps merge, false and 0 override defaults, null removes a key", async () => {
    const config = orthancJson(
      await render({
        values: { orthanc: { config: { DicomCheckCalledAet: false, MetricsEnabled: false, PostgreSQL: { IndexConnectionsCount: 0 }, ExecuteLuaEnabled: null, StableAge: 5 } } },
      }),
    );
    expect(config.DicomCheckCalledAet).toBe(false);
    expect(config.MetricsEnabled).toBe(false);
    expect(config.StableAge).toBe(5);
    expect(config).not.toHaveProperty("ExecuteLuaEnabled");
    expect(config.PostgreSQL).toMatchObject({ IndexConnectionsCount: 0, EnableIndex: true, Password: "${ORTHANC_DB_PASSWORD}" });
  });

  it("a ${VAR} in orthanc.config without an env entry fails the render naming it; extraEnv or a default fixes it", async () => {
    const missing = await renderRaw({ values: { orthanc: { config: { AwsS3Storage: { SecretKey: "${S3_SECRET}" } } } } });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain("orthanc.config uses ${S3_SECRET} but no container env provides it");
    const fed = await renderRaw({
      values: {
        orthanc: { config: { AwsS3Storage: { SecretKey: "${S3_SECRET}" } } },
        extraEnv: [{ name: "S3_SECRET", valueFrom: { secretKeyRef: { name: "s3", key: "secret" } } }],
      },
    });
    expect(fed.exitCode, fed.stderr).toBe(0);
    const defaulted = await renderRaw({ values: { orthanc: { config: { Name: "${SITE_NAME:-Orthanc}" } } } });
    expect(defaulted.exitCode, defaulted.stderr).toBe(0);
  });

  it("CONTRACT: objects are named after the release", async () => {
    const objects = await render({ release: "pacs", namespace: "imaging" });
    expect(find(objects, "ConfigMap", "pacs-config")).toBeDefined();
    expect(find(objects, "Secret", "pacs-tls").type).toBe("kubernetes.io/tls");
    expect(as(find(objects, "Deployment", "pacs").spec).template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["orthanc"]);
    expect(find(objects, "IngressRoute", "pacs-web").metadata?.namespace).toBe("imaging");
  });

  it("sslMode disable turns the plugin's EnableSsl off", async () => {
    expect(orthancJson(await render({ values: { database: { sslMode: "disable" } } })).PostgreSQL).toMatchObject({ EnableSsl: false });
  });
});

describe("helm/orthanc values sets", () => {
  it("HPA on: autoscaling/v2 on CPU, and the Deployment leaves replicas to it", async () => {
    const objects = await render({ valuesFiles: ["helm/orthanc/ci/autoscaling.yaml"] });
    const hpa = as(find(objects, "HorizontalPodAutoscaler", "orthanc"));
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 8, scaleTargetRef: { kind: "Deployment", name: "orthanc" } });
    expect(hpa.spec.metrics[0].resource.target).toEqual({ type: "Utilization", averageUtilization: 60 });
    expect(as(deployment(objects).spec).replicas).toBeUndefined();
    // A TLSOption with its own name is referenced by the web route; DICOM keeps its own; TLS 1.3 only on both.
    expect(as(find(objects, "IngressRoute", "orthanc-web").spec).tls.options).toEqual({ name: "orthanc-tls13", namespace: "orthanc" });
    expect(as(find(objects, "IngressRouteTCP", "orthanc-dicom").spec).tls.options).toEqual({ name: "orthanc-dicom", namespace: "orthanc" });
    for (const name of ["orthanc-tls13", "orthanc-dicom"]) expect(as(find(objects, "TLSOption", name).spec)).toMatchObject({ minVersion: "VersionTLS13" });
    expect(as(find(objects, "TLSOption", "orthanc-tls13").spec).cipherSuites).toBeUndefined();
    const monitor = as(find(objects, "ServiceMonitor", "orthanc").spec).endpoints[0];
    expect(monitor).toMatchObject({ port: "http-web", path: "/tools/metrics-prometheus", scheme: "http", basicAuth: { password: { name: "orthanc-admin", key: "password" } } });
    expect(monitor.tlsConfig).toBeUndefined();
  });

  it("scrape through STRICT mTLS: scheme https and the tlsConfig given, copied into the endpoint as is", async () => {
    const tlsConfig = { caFile: "/etc/prom-certs/root-cert.pem", certFile: "/etc/prom-certs/cert-chain.pem", keyFile: "/etc/prom-certs/key.pem", insecureSkipVerify: true };
    const monitor = as(find(await render({ valuesFiles: ["helm/orthanc/ci/istio-cert-manager.yaml"] }), "ServiceMonitor", "orthanc").spec).endpoints[0];
    expect(monitor).toMatchObject({ port: "http-web", scheme: "https", tlsConfig });
    const named = as(find(await render({ values: { metrics: { serviceMonitor: { enabled: true, scheme: "https", tlsConfig: { serverName: "orthanc.pacs.svc" } } } } }), "ServiceMonitor", "orthanc").spec).endpoints[0];
    expect(named).toMatchObject({ scheme: "https", tlsConfig: { serverName: "orthanc.pacs.svc" } });
  });

  it("one replica: no PDB, no spreading", async () => {
    const objects = await render({ valuesFiles: ["helm/orthanc/ci/single-replica.yaml"] });
    expect(as(deployment(objects).spec).replicas).toBe(1);
    expect(ofKind(objects, "PodDisruptionBudget")).toEqual([]);
    expect(podSpec(objects).topologySpreadConstraints).toBeUndefined();
  });

  it("istio: Gateway 443 HTTPS SIMPLE and 11112 TLS MUTUAL hosts [*], VirtualServices http and tcp, Certificate in the gateway namespace", async () => {
    const objects = await render({ valuesFiles: ["helm/orthanc/ci/istio-cert-manager.yaml"] });
    expect(ofKind(objects, "IngressRoute")).toEqual([]);
    // gatewayResourceNamespace: the Gateway sits next to the gateway pods, the routes stay with Orthanc.
    expect(find(objects, "Gateway", "orthanc").metadata?.namespace).toBe("bhc-ingress");
    for (const name of ["orthanc-web", "orthanc-dicom"]) expect(find(objects, "VirtualService", name).metadata?.namespace).toBe("orthanc");
    const gateway = as(find(objects, "Gateway", "orthanc").spec);
    expect(gateway.selector).toEqual({ istio: "bhc-ingress" });
    const policy12 = { minProtocolVersion: "TLSV1_2", cipherSuites: expect.arrayContaining(["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]) };
    expect(gateway.servers).toEqual([
      { port: { number: 443, name: "https-web", protocol: "HTTPS" }, hosts: ["web.bhc.korthweb.test"], tls: { mode: "SIMPLE", credentialName: "orthanc-tls", ...policy12 } },
      {
        port: { number: 11112, name: "tls-dicom", protocol: "TLS" },
        hosts: ["*"],
        tls: { mode: "MUTUAL", caCertCredentialName: "orthanc-modality-ca", credentialName: "orthanc-tls", ...policy12 },
      },
    ]);
    const web = as(find(objects, "VirtualService", "orthanc-web").spec);
    expect(web).toEqual({ hosts: ["web.bhc.korthweb.test"], gateways: ["bhc-ingress/orthanc"], http: [{ route: [{ destination: { host: "orthanc.orthanc.svc.cluster.local", port: { number: 8042 } } }] }] });
    const dicom = as(find(objects, "VirtualService", "orthanc-dicom").spec);
    expect(dicom.gateways).toEqual(["bhc-ingress/orthanc"]);
    expect(dicom.tcp).toEqual([{ match: [{ port: 11112 }], route: [{ destination: { host: "orthanc.orthanc.svc.cluster.local", port: { number: 4242 } } }] }]);
    const certificate = find(objects, "Certificate", "orthanc");
    expect(certificate.metadata?.namespace).toBe("bhc-ingress");
    expect(as(certificate.spec)).toMatchObject({ secretName: "orthanc-tls", dnsNames: ["web.bhc.korthweb.test", "dicom.bhc.korthweb.test"], issuerRef: { name: "korthweb-ca", kind: "ClusterIssuer" } });
    const policy = as(find(objects, "NetworkPolicy", "orthanc").spec);
    expect(policy.ingress[0].from[0].namespaceSelector.matchExpressions[0].values).toEqual(["bhc-ingress"]);
    expect(policy.egress.at(-1)).toEqual({ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-system" } } }], ports: [{ port: 15012, protocol: "TCP" }] });
    // Monitoring reaches Orthanc and its sidecar's metrics (Envoy stats 15090, merged 15020) for Kiali and Istio's dashboards.
    expect(policy.ingress[1]).toEqual({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
      ports: [{ port: 8042, protocol: "TCP" }, { port: 15090, protocol: "TCP" }, { port: 15020, protocol: "TCP" }],
    });
    // Only the monitoring namespace: the gateway's rule keeps the application ports alone.
    expect(policy.ingress[0].ports.map((p: { port: number }) => p.port)).toEqual([8042, 4242]);
    // No CA known at render time for this set: the test says so instead of pretending.
    expect(as(find(objects, "Pod", "orthanc-test").spec).containers[0].args).toContain("--insecure");
  });

  it("istio without gatewayResourceNamespace: the Gateway in the release namespace, routes name <release namespace>/<release>", async () => {
    const objects = await render({ release: "pacs", namespace: "imaging", values: { ingress: { provider: "istio" } } });
    expect(find(objects, "Gateway", "pacs").metadata?.namespace).toBe("imaging");
    for (const name of ["pacs-web", "pacs-dicom"]) expect(as(find(objects, "VirtualService", name).spec).gateways).toEqual(["imaging/pacs"]);
  });

  it("istio with an existing Gateway: no Gateway object, routes attached to it", async () => {
    const objects = await render({ valuesFiles: ["helm/orthanc/ci/istio-existing-gateway.yaml"] });
    expect(ofKind(objects, "Gateway")).toEqual([]);
    expect(as(find(objects, "VirtualService", "orthanc-dicom").spec).gateways).toEqual(["istio-ingress/shared"]);
    expect(find(objects, "Secret", "orthanc-tls").metadata?.namespace).toBe("istio-ingress");
  });

  it("existing certificate: no Secret rendered, routes use it, helm test uses the given CA", async () => {
    const objects = await render({ valuesFiles: ["helm/orthanc/ci/existing-certificate.yaml"] });
    // Only the modality CA's Secrets (its own generate mode): nothing for the server certificate.
    expect(ofKind(objects, "Secret").map((s) => s.metadata?.name).sort()).toEqual(["orthanc-modality-ca", "orthanc-smoke-client"]);
    expect(as(find(objects, "IngressRouteTCP", "orthanc-dicom").spec).tls.secretName).toBe("orthanc-public-tls");
    expect(as(find(objects, "TLSStore", "default").spec).defaultCertificate.secretName).toBe("orthanc-public-tls");
    expect(as(find(objects, "Pod", "orthanc-test").spec).volumes.find((v: { name: string }) => v.name === "ca").configMap.name).toBe("corporate-ca");
  });

  it("no ingress, external database: no routes, no helm test, egress to the database CIDR", async () => {
    const objects = await render({ valuesFiles: ["helm/orthanc/ci/no-ingress-external-db.yaml"] });
    for (const kind of ["IngressRoute", "IngressRouteTCP", "Gateway", "VirtualService", "Pod"]) expect(ofKind(objects, kind)).toEqual([]);
    const policy = as(find(objects, "NetworkPolicy", "orthanc").spec);
    expect(policy.egress[0].to).toEqual([{ ipBlock: { cidr: "10.20.0.0/16" } }]);
    expect(policy.ingress).toHaveLength(1);
    expect(policy.ingress[0].from[0].namespaceSelector.matchExpressions[0].values).toEqual(["ingress-nginx"]);
  });
});
