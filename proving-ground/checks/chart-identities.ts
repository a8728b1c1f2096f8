// The service accounts and pod labels upstream charts give their workloads,
// for given release names and values: what Istio policies must name (a
// principal is cluster.local/ns/<namespace>/sa/<service account>) and select.
// Each function mirrors the chart's own naming helper, cited below, so a
// policy can be checked against what the chart really creates rather than
// against a name typed twice.
import { record, text } from "../../tasks/lib/values.ts";

export interface WorkloadIdentity {
  serviceAccount: string;
  /** The pod labels policies select on. */
  labels: Record<string, string>;
}

/** Helm's trunc N | trimSuffix "-". */
const truncate = (name: string, length: number) => name.slice(0, length).replace(/-$/, "");

/**
 * Istio's `gateway` chart (manifests/charts/gateway/templates/_helpers.tpl): the name is `name` or the
 * release name; pods are labelled app=<name>, istio=<name without "istio-"> (unless `labels` sets them);
 * the service account is serviceAccount.name or, when the chart creates it (the default), the name.
 */
export function istioGatewayIdentity(releaseName: string, values: Record<string, unknown>): WorkloadIdentity {
  const name = text(values.name) || releaseName || "istio-ingressgateway";
  const labels = record(values.labels);
  const account = record(values.serviceAccount);
  const create = account.create !== false;
  return {
    serviceAccount: text(account.name) || (create ? name : "default"),
    labels: { app: text(labels.app) ?? name, istio: text(labels.istio) ?? name.replace(/^istio-/, "") },
  };
}

/**
 * kube-prometheus-stack (templates/_helpers.tpl, "kube-prometheus-stack.prometheus.serviceAccountName"):
 * prometheus.serviceAccount.name or, when the chart creates it (the default), <fullname>-prometheus, where
 * fullname is fullnameOverride, else the release name if it contains the chart name, else
 * <release>-<chart>, cut to 26 characters. The operator labels Prometheus pods app.kubernetes.io/name=prometheus.
 */
export function prometheusIdentity(releaseName: string, values: Record<string, unknown>): WorkloadIdentity {
  const chart = text(values.nameOverride) || "kube-prometheus-stack";
  const override = text(values.fullnameOverride);
  const fullname = truncate(override || (releaseName.includes(chart) ? releaseName : `${releaseName}-${chart}`), 26);
  const account = record(record(values.prometheus).serviceAccount);
  const create = account.create !== false;
  return {
    serviceAccount: text(account.name) || (create ? `${fullname}-prometheus` : "default"),
    labels: { "app.kubernetes.io/name": "prometheus" },
  };
}

/**
 * bitnami's `postgresql` chart, primary: pods labelled name=postgresql, instance=<release>,
 * component=primary; service account serviceAccount.name or, when created (16.x's default), the
 * fullname (fullnameOverride, else the release name if it contains "postgresql", else <release>-postgresql).
 */
export function bitnamiPostgresqlIdentity(releaseName: string, values: Record<string, unknown>): WorkloadIdentity {
  const fullname = truncate(text(values.fullnameOverride) || (releaseName.includes("postgresql") ? releaseName : `${releaseName}-postgresql`), 63);
  const account = record(values.serviceAccount);
  const create = account.create !== false;
  return {
    serviceAccount: text(account.name) || (create ? fullname : "default"),
    labels: { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": releaseName, "app.kubernetes.io/component": "primary" },
  };
}
