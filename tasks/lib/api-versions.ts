// Which apiVersions the project targets: the kit renders charts against them (helm --api-versions),
// and the validator (proving-ground/validate) accepts only these and explains why others are refused.
// "Served" means served by the versions we target (Kubernetes ≥ 1.33, Istio
// 1.30, cert-manager 1.21, Traefik v3, Flux 2.9, prometheus-operator): each
// entry names the kubernetes-models module holding its schemas. The packages
// also ship schemas for removed versions (e.g. helm.toolkit.fluxcd.io/v2beta2):
// those are listed under `removed` and always refused, with the replacement.

/** apiVersion → module that exports its model classes. */
export const servedApis: Record<string, string> = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "autoscaling/v1": "kubernetes-models/autoscaling/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "storage.k8s.io/v1": "kubernetes-models/storage.k8s.io/v1",
  "scheduling.k8s.io/v1": "kubernetes-models/scheduling.k8s.io/v1",
  "coordination.k8s.io/v1": "kubernetes-models/coordination.k8s.io/v1",
  "discovery.k8s.io/v1": "kubernetes-models/discovery.k8s.io/v1",
  "admissionregistration.k8s.io/v1": "kubernetes-models/admissionregistration.k8s.io/v1",
  "apiextensions.k8s.io/v1": "kubernetes-models/apiextensions.k8s.io/v1",
  "apiregistration.k8s.io/v1": "kubernetes-models/apiregistration.k8s.io/v1",
  "certificates.k8s.io/v1": "kubernetes-models/certificates.k8s.io/v1",
  "node.k8s.io/v1": "kubernetes-models/node.k8s.io/v1",
  "flowcontrol.apiserver.k8s.io/v1": "kubernetes-models/flowcontrol.apiserver.k8s.io/v1",
  "networking.istio.io/v1": "@kubernetes-models/istio/networking.istio.io/v1",
  "security.istio.io/v1": "@kubernetes-models/istio/security.istio.io/v1",
  "telemetry.istio.io/v1": "@kubernetes-models/istio/telemetry.istio.io/v1",
  "cert-manager.io/v1": "@kubernetes-models/cert-manager/cert-manager.io/v1",
  "acme.cert-manager.io/v1": "@kubernetes-models/cert-manager/acme.cert-manager.io/v1",
  "traefik.io/v1alpha1": "@kubernetes-models/traefik/traefik.io/v1alpha1",
  "source.toolkit.fluxcd.io/v1": "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1",
  "kustomize.toolkit.fluxcd.io/v1": "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1",
  "helm.toolkit.fluxcd.io/v2": "@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2",
  "notification.toolkit.fluxcd.io/v1": "@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
  "monitoring.coreos.com/v1alpha1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1",
};

/** API versions helm should assume the cluster serves, so capability-gated templates (ServiceMonitor, …) render. */
export const renderApiVersions = Object.keys(servedApis).filter((api) => api.includes("/"));

/** Removed or deprecated apiVersions → what to use instead. */
export const removedApis: Record<string, string> = {
  "extensions/v1beta1": "apps/v1 (workloads) or networking.k8s.io/v1 (Ingress, NetworkPolicy); removed in Kubernetes 1.16–1.22",
  "apps/v1beta1": "apps/v1; removed in Kubernetes 1.16",
  "apps/v1beta2": "apps/v1; removed in Kubernetes 1.16",
  "batch/v1beta1": "batch/v1; removed in Kubernetes 1.25",
  "autoscaling/v2beta1": "autoscaling/v2; removed in Kubernetes 1.25",
  "autoscaling/v2beta2": "autoscaling/v2; removed in Kubernetes 1.26",
  "policy/v1beta1": "policy/v1 (PodSecurityPolicy is gone: use Pod Security admission); removed in Kubernetes 1.25",
  "networking.k8s.io/v1beta1": "networking.k8s.io/v1; removed in Kubernetes 1.22",
  "rbac.authorization.k8s.io/v1beta1": "rbac.authorization.k8s.io/v1; removed in Kubernetes 1.22",
  "storage.k8s.io/v1beta1": "storage.k8s.io/v1; removed in Kubernetes 1.22–1.27",
  "scheduling.k8s.io/v1beta1": "scheduling.k8s.io/v1; removed in Kubernetes 1.22",
  "coordination.k8s.io/v1beta1": "coordination.k8s.io/v1; removed in Kubernetes 1.22",
  "discovery.k8s.io/v1beta1": "discovery.k8s.io/v1; removed in Kubernetes 1.25",
  "admissionregistration.k8s.io/v1beta1": "admissionregistration.k8s.io/v1; removed in Kubernetes 1.22",
  "apiextensions.k8s.io/v1beta1": "apiextensions.k8s.io/v1; removed in Kubernetes 1.22",
  "apiregistration.k8s.io/v1beta1": "apiregistration.k8s.io/v1; removed in Kubernetes 1.22",
  "certificates.k8s.io/v1beta1": "certificates.k8s.io/v1; removed in Kubernetes 1.22",
  "node.k8s.io/v1beta1": "node.k8s.io/v1; removed in Kubernetes 1.25",
  "events.k8s.io/v1beta1": "events.k8s.io/v1; removed in Kubernetes 1.25",
  "flowcontrol.apiserver.k8s.io/v1beta1": "flowcontrol.apiserver.k8s.io/v1; removed in Kubernetes 1.26",
  "flowcontrol.apiserver.k8s.io/v1beta2": "flowcontrol.apiserver.k8s.io/v1; removed in Kubernetes 1.29",
  "flowcontrol.apiserver.k8s.io/v1beta3": "flowcontrol.apiserver.k8s.io/v1; removed in Kubernetes 1.32",
  "networking.istio.io/v1alpha3": "networking.istio.io/v1 (deprecated since Istio 1.22)",
  "networking.istio.io/v1beta1": "networking.istio.io/v1 (deprecated since Istio 1.22)",
  "security.istio.io/v1beta1": "security.istio.io/v1 (deprecated since Istio 1.22)",
  "telemetry.istio.io/v1alpha1": "telemetry.istio.io/v1 (deprecated since Istio 1.22)",
  "cert-manager.io/v1alpha2": "cert-manager.io/v1; removed in cert-manager 1.6",
  "cert-manager.io/v1alpha3": "cert-manager.io/v1; removed in cert-manager 1.6",
  "cert-manager.io/v1beta1": "cert-manager.io/v1; removed in cert-manager 1.6",
  "acme.cert-manager.io/v1alpha2": "acme.cert-manager.io/v1; removed in cert-manager 1.6",
  "traefik.containo.us/v1alpha1": "traefik.io/v1alpha1; the traefik.containo.us group is gone in Traefik v3",
  "helm.toolkit.fluxcd.io/v2beta1": "helm.toolkit.fluxcd.io/v2; removed in Flux 2.8",
  "helm.toolkit.fluxcd.io/v2beta2": "helm.toolkit.fluxcd.io/v2; removed in Flux 2.8",
  "kustomize.toolkit.fluxcd.io/v1beta1": "kustomize.toolkit.fluxcd.io/v1; removed in Flux 2.8",
  "kustomize.toolkit.fluxcd.io/v1beta2": "kustomize.toolkit.fluxcd.io/v1; removed in Flux 2.8",
  "source.toolkit.fluxcd.io/v1beta1": "source.toolkit.fluxcd.io/v1; removed in Flux 2.8",
  "source.toolkit.fluxcd.io/v1beta2": "source.toolkit.fluxcd.io/v1 (OCIRepository included); removed in Flux 2.8",
  "notification.toolkit.fluxcd.io/v1beta1": "notification.toolkit.fluxcd.io/v1; removed in Flux 2.8",
  "notification.toolkit.fluxcd.io/v1beta2": "notification.toolkit.fluxcd.io/v1; removed in Flux 2.8",
  "notification.toolkit.fluxcd.io/v1beta3": "notification.toolkit.fluxcd.io/v1; removed in Flux 2.8",
};

/**
 * Objects accepted without a schema. Each needs a reason; keep this short.
 * Key: "apiVersion kind".
 */
export const allowedWithoutSchema: Record<string, string> = {
  // Read by istioctl from a file (the in-cluster operator is gone since Istio 1.24).
  "install.istio.io/v1alpha1 IstioOperator":
    "kubernetes-models' schema for it has no spec (every real file would fail); istioctl itself parses it strictly, which test/manual runs (istioctl manifest generate)",
  "kiali.io/v1alpha1 Kiali":
    "no schema ships in kubernetes-models; the kiali-operator validates it and our tests check the fields we set",
};
