// Where the manual approach's files are and what its releases, namespaces and
// Secrets are called. The committed YAML under manual/ fixes these names (the
// chart was rendered with them), so they are constants here, not settings.
import { fromRoot } from "../lib/paths.ts";
import { pins } from "../lib/settings.ts";
import type { ReleaseOptions } from "../lib/helm.ts";

export const manualDir = fromRoot("manual");
export const manualFile = (...parts: string[]) => fromRoot("manual", ...parts);

export const files = {
  istioNamespaces: manualFile("02-istio", "namespaces.yaml"),
  cniValues: manualFile("02-istio", "cni.values.yaml"),
  istiodValues: manualFile("02-istio", "istiod.values.yaml"),
  gatewayValues: manualFile("02-istio", "gateway.values.yaml"),
  istioOperator: manualFile("02-istio", "istio-operator.yaml"),
  certManagerNamespace: manualFile("03-cert-manager", "namespace.yaml"),
  certManagerValues: manualFile("03-cert-manager", "cert-manager.values.yaml"),
  caChain: manualFile("03-cert-manager", "ca-chain.yaml"),
  appNamespace: manualFile("04-postgresql", "namespace.yaml"),
  /** The helm approach's PostgreSQL values, reused as the base. */
  postgresqlBaseValues: fromRoot("helm", "postgresql.values.yaml"),
  postgresqlValues: manualFile("04-postgresql", "postgresql.values.yaml"),
  orthancValues: manualFile("05-orthanc", "orthanc.values.yaml"),
  orthanc: manualFile("05-orthanc", "orthanc.yaml"),
  routing: manualFile("06-routing", "routing.yaml"),
  peerAuthentication: manualFile("07-security", "peer-authentication.yaml"),
  authorizationPolicies: manualFile("07-security", "authorization-policies.yaml"),
  observabilityNamespaces: manualFile("08-observability", "namespaces.yaml"),
  kubePrometheusStackValues: manualFile("08-observability", "kube-prometheus-stack.values.yaml"),
  kialiOperatorValues: manualFile("08-observability", "kiali-operator.values.yaml"),
  kiali: manualFile("08-observability", "kiali.yaml"),
  istioMonitors: manualFile("08-observability", "istio-monitors.yaml"),
  orthancServiceMonitor: manualFile("08-observability", "orthanc-servicemonitor.yaml"),
  orthancDashboard: manualFile("08-observability", "orthanc-dashboard.yaml"),
} as const;

export const namespaces = {
  istio: "istio-system",
  gateway: "istio-ingress",
  certManager: "cert-manager",
  app: "orthanc",
  monitoring: "monitoring",
  kialiOperator: "kiali-operator",
} as const;

/** The release and namespace the committed Orthanc YAML was rendered for. */
export const orthancRelease = { name: "orthanc", namespace: namespaces.app } as const;

/** Secrets the tasks create when missing (random alphanumeric values, never printed). */
export const secrets = {
  admin: { namespace: namespaces.app, name: "orthanc-admin" },
  database: { namespace: namespaces.app, name: "orthanc-db" },
  grafana: { namespace: namespaces.monitoring, name: "grafana-admin" },
  /** Issued by cert-manager: the gateway's certificate, with the CA in ca.crt. */
  tls: { namespace: namespaces.gateway, name: "orthanc-tls" },
} as const;

const istioChart = (chart: string) => ({ chart: `${pins.istio.charts}/${chart}`, version: pins.istio.version });

/** Every Helm release of the manual approach, in install order. */
export const releases = {
  istioBase: { release: "istio-base", namespace: namespaces.istio, ...istioChart("base"), createNamespace: false },
  istioCni: { release: "istio-cni", namespace: namespaces.istio, ...istioChart("cni"), valuesFiles: [files.cniValues], createNamespace: false },
  istiod: { release: "istiod", namespace: namespaces.istio, ...istioChart("istiod"), valuesFiles: [files.istiodValues], createNamespace: false },
  gateway: { release: "istio-ingress", namespace: namespaces.gateway, ...istioChart("gateway"), valuesFiles: [files.gatewayValues], createNamespace: false },
  certManager: {
    release: "cert-manager",
    namespace: namespaces.certManager,
    chart: pins.certManagerChart.chart,
    version: pins.certManagerChart.version,
    valuesFiles: [files.certManagerValues],
    createNamespace: false,
  },
  postgresql: {
    release: "orthanc-db",
    namespace: namespaces.app,
    chart: pins.postgresqlChart.chart,
    version: pins.postgresqlChart.version,
    valuesFiles: [files.postgresqlBaseValues, files.postgresqlValues],
    createNamespace: false,
  },
  kubePrometheusStack: {
    release: "kube-prometheus-stack",
    namespace: namespaces.monitoring,
    chart: pins.kubePrometheusStackChart.chart,
    version: pins.kubePrometheusStackChart.version,
    valuesFiles: [files.kubePrometheusStackValues],
    createNamespace: false,
  },
  kialiOperator: {
    release: "kiali-operator",
    namespace: namespaces.kialiOperator,
    chart: pins.kialiOperatorChart.chart,
    repo: pins.kialiOperatorChart.repo,
    version: pins.kialiOperatorChart.version,
    valuesFiles: [files.kialiOperatorValues],
    createNamespace: false,
  },
} satisfies Record<string, ReleaseOptions>;

/** Workloads the steps wait for (kind, namespace, name), named after the releases above. */
export const workloads = {
  istioCni: { kind: "DaemonSet", namespace: namespaces.istio, name: "istio-cni-node" },
  istiod: { kind: "Deployment", namespace: namespaces.istio, name: "istiod" },
  gateway: { kind: "Deployment", namespace: namespaces.gateway, name: "istio-ingress" },
  certManager: [
    { kind: "Deployment", namespace: namespaces.certManager, name: "cert-manager" },
    { kind: "Deployment", namespace: namespaces.certManager, name: "cert-manager-cainjector" },
    { kind: "Deployment", namespace: namespaces.certManager, name: "cert-manager-webhook" },
  ],
  postgresql: { kind: "StatefulSet", namespace: namespaces.app, name: "orthanc-db-postgresql" },
  orthanc: { kind: "Deployment", namespace: namespaces.app, name: "orthanc" },
  prometheusOperator: { kind: "Deployment", namespace: namespaces.monitoring, name: "kube-prometheus-stack-operator" },
  grafana: { kind: "Deployment", namespace: namespaces.monitoring, name: "kube-prometheus-stack-grafana" },
  prometheus: { kind: "StatefulSet", namespace: namespaces.monitoring, name: "prometheus-kube-prometheus-stack-prometheus" },
  kialiOperator: { kind: "Deployment", namespace: namespaces.kialiOperator, name: "kiali-operator" },
  kiali: { kind: "Deployment", namespace: namespaces.istio, name: "kiali" },
} as const;

/** Services the port-forward targets open (127.0.0.1 only). */
export const consoles = {
  grafana: { namespace: namespaces.monitoring, service: "kube-prometheus-stack-grafana", localPort: 3000, servicePort: 80, path: "/" },
  kiali: { namespace: namespaces.istio, service: "kiali", localPort: 20001, servicePort: 20001, path: "/kiali" },
} as const;
