// The mesh as the security step sees it: which workloads have a proxy, the
// identity each presents (its service account, as a SPIFFE principal), the
// labels a policy selects them by, and the ports they serve. Policies in
// manual/07-security are written against this; test/manual checks each fact
// against the file that really decides it (chart output, upstream values).
import type { MeshWorkload } from "../istio-authorization.ts";
import { namespaces } from "../../../tasks/manual/layout.ts";

/** Where Prometheus' sidecar writes its mesh certificate for Prometheus to use (kube-prometheus-stack.values.yaml). */
export const prometheusCertDir = "/etc/prom-certs";

export const meshWorkloads = {
  gateway: { name: "istio-ingress", namespace: namespaces.gateway, serviceAccount: "istio-ingress", labels: { istio: "ingress", app: "istio-ingress" }, ports: [443, 11112] },
  orthanc: {
    name: "orthanc",
    namespace: namespaces.app,
    serviceAccount: "orthanc",
    labels: { "app.kubernetes.io/name": "orthanc", "app.kubernetes.io/instance": "orthanc", "app.kubernetes.io/component": "server" },
    ports: [8042, 4242],
  },
  postgresql: {
    name: "postgresql",
    namespace: namespaces.app,
    serviceAccount: "orthanc-db-postgresql",
    labels: { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "orthanc-db", "app.kubernetes.io/component": "primary" },
    ports: [5432],
  },
  // Its sidecar only provides a certificate: inbound and outbound traffic bypass it.
  prometheus: { name: "prometheus", namespace: namespaces.monitoring, serviceAccount: "prometheus", labels: { "app.kubernetes.io/name": "prometheus" }, ports: [] },
} satisfies Record<string, MeshWorkload>;

/** The flows the security step allows, and nothing else ("*" = any source, also without a mesh identity). */
export const intendedFlows = [
  "* -> istio-ingress:443",
  "* -> istio-ingress:11112",
  "istio-ingress -> orthanc:8042",
  "istio-ingress -> orthanc:4242",
  "prometheus -> orthanc:8042 GET /tools/metrics-prometheus",
  "orthanc -> postgresql:5432",
] as const;
