// The manual approach's steps: --dry-run of the whole sequence prints the
// ordered plan and what each step would apply, with no cluster; the settings
// the committed YAML cannot follow are refused; pure pieces of the steps.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../tasks/lib/settings.ts";
import { runTasks } from "../../tasks/lib/task.ts";
import { installSteps } from "../../tasks/manual/install.ts";
import { uninstallSteps } from "../../tasks/manual/uninstall.ts";
import { settingsMismatches } from "../../tasks/manual/01-preflight.ts";
import { unexposedPorts } from "../../tasks/manual/06-routing.ts";
import { podsWithoutSidecar } from "../../tasks/manual/09-verify.ts";
import { crdGone, onlyObject, webhookNotReady } from "../../tasks/manual/apply.ts";
import { consoleName, consoleUrl, portForwardArgs } from "../../tasks/manual/console.ts";
import { istioInstaller, matchesPinnedIstio } from "../../tasks/manual/istio-installer.ts";
import { files } from "../../tasks/manual/layout.ts";
import { writeKubeconfig } from "../helpers/fake-apiserver.ts";
import { useCapturedLog } from "../helpers/log.ts";

const lines = useCapturedLog();
const output = () => lines.join("\n");
const saved = { kubeconfig: process.env.KUBECONFIG, installer: process.env.ISTIO_INSTALLER };
beforeEach(() => {
  process.env.KUBECONFIG = writeKubeconfig("https://127.0.0.1:1"); // nothing answers there
  delete process.env.ISTIO_INSTALLER;
});
afterEach(() => {
  process.env.KUBECONFIG = saved.kubeconfig;
  if (saved.installer === undefined) delete process.env.ISTIO_INSTALLER;
  else process.env.ISTIO_INSTALLER = saved.installer;
});

/** Each part must appear after the previous one. */
function expectInOrder(text: string, parts: readonly string[]): void {
  let at = 0;
  for (const part of parts) {
    const found = text.indexOf(part, at);
    expect(found, `"${part}" after position ${at}`).toBeGreaterThanOrEqual(at);
    at = found + part.length;
  }
}

describe("manual-install --dry-run (no cluster)", () => {
  it("prints the nine steps in order, then each step's actions, and exits 0", async () => {
    const code = await runTasks("manual-install", installSteps, ["--dry-run"]);
    expect(code, output()).toBe(0);
    expectInOrder(output(), [
      "1. Preflight", "2. Istio", "3. cert-manager", "4. PostgreSQL", "5. Orthanc", "6. Routing", "7. Security", "8. Observability", "9. Verify",
      "▶ 1/9 Preflight", "would check: kube context set",
      "▶ 2/9 Istio", "would apply (server-side) manual/02-istio/namespaces.yaml: Namespace istio-system, Namespace istio-ingress",
      "helm upgrade --install istio-base oci://ghcr.io/istio/release/charts/base --version 1.30.5",
      "would wait for CRDs gateways.networking.istio.io",
      "helm upgrade --install istio-cni oci://ghcr.io/istio/release/charts/cni --version 1.30.5", "would wait for DaemonSet istio-system/istio-cni-node",
      "helm upgrade --install istiod oci://ghcr.io/istio/release/charts/istiod --version 1.30.5", "would wait for Deployment istio-system/istiod",
      "helm upgrade --install istio-ingress oci://ghcr.io/istio/release/charts/gateway --version 1.30.5", "manual/02-istio/gateway.values.yaml",
      "▶ 3/9 cert-manager", "helm upgrade --install cert-manager oci://quay.io/jetstack/charts/cert-manager --version v1.21.3",
      "would wait for Deployment cert-manager/cert-manager-webhook",
      "manual/03-cert-manager/ca-chain.yaml: ClusterIssuer korthweb-selfsigned, Certificate cert-manager/korthweb-ca, ClusterIssuer korthweb-ca, Certificate istio-ingress/orthanc-tls",
      "would wait for Certificate istio-ingress/orthanc-tls to be Ready",
      "▶ 4/9 PostgreSQL", "manual/04-postgresql/namespace.yaml: Namespace orthanc", "would create Secret orthanc/orthanc-db",
      "helm upgrade --install orthanc-db oci://registry-1.docker.io/bitnamicharts/postgresql --version 16.7.27", "helm/postgresql.values.yaml -f", "manual/04-postgresql/postgresql.values.yaml",
      "▶ 5/9 Orthanc", "would create Secret orthanc/orthanc-admin", "manual/05-orthanc/orthanc.yaml: NetworkPolicy orthanc/orthanc", "Deployment orthanc/orthanc",
      "would wait for Deployment orthanc/orthanc to roll out",
      "▶ 6/9 Routing", "manual/06-routing/routing.yaml: Gateway istio-ingress/orthanc, VirtualService orthanc/orthanc-web, VirtualService orthanc/orthanc-dicom",
      "▶ 7/9 Security", "PeerAuthentication istio-system/default", "AuthorizationPolicy orthanc/postgresql-from-orthanc",
      "allowed flows", "prometheus -> orthanc:8042 GET /tools/metrics-prometheus",
      "▶ 8/9 Observability", "would create Secret monitoring/grafana-admin",
      "helm upgrade --install kube-prometheus-stack oci://ghcr.io/prometheus-community/charts/kube-prometheus-stack --version 92.3.0",
      "ServiceMonitor orthanc/orthanc", "PodMonitor monitoring/envoy-stats", "ConfigMap monitoring/orthanc-dashboard",
      "helm upgrade --install kiali-operator kiali-operator --version 2.32.0 --repo https://kiali.org/helm-charts",
      "Kiali istio-system/kiali", "would wait for Deployment istio-system/kiali",
      "▶ 9/9 Verify", "would run the smoke suite: node smoke/cli.ts --target kube --gateway-service istio-ingress/istio-ingress --ca-secret istio-ingress/orthanc-tls --client-secret istio-ingress/orthanc-smoke-client --modality-ca-secret istio-ingress/orthanc-modality-ca",
    ]);
  });

  it("prints the manifests it would apply, and never a secret value or key", async () => {
    await runTasks("manual-install", installSteps, ["--dry-run"]);
    const text = output();
    expect(text).toContain("kind: AuthorizationPolicy");
    expect(text).toContain('"RegisteredUsers": {');
    expect(text).not.toMatch(/stringData|PRIVATE KEY|LS0tLS1CRUdJT/);
  });

  it("ISTIO_INSTALLER=istioctl: istioctl installs the control plane from the IstioOperator file, the gateway still comes from its chart", async () => {
    process.env.ISTIO_INSTALLER = "istioctl";
    expect(await runTasks("manual-install", installSteps, ["--dry-run"]), output()).toBe(0);
    const text = output();
    expectInOrder(text, ["Istio installer: istioctl", "would run: istioctl install -f manual/02-istio/istio-operator.yaml -y", "would wait for DaemonSet istio-system/istio-cni-node", "helm upgrade --install istio-ingress oci://ghcr.io/istio/release/charts/gateway"]);
    expect(text).not.toContain("helm upgrade --install istiod");
    expect(text).toMatch(/needs istioctl 1\.30\.5/); // the 1.31 analysis build is flagged
  });

  it("refuses an unknown installer and settings the committed YAML does not follow (exit 2)", async () => {
    expect(await runTasks("manual-install", installSteps, ["--dry-run", "--istio-installer", "kubectl"])).toBe(2);
    expect(output()).toContain('invalid Istio installer "kubectl": expected helm or istioctl');
    lines.length = 0;
    expect(await runTasks("manual-install", installSteps, ["--dry-run", "--domain", "pacs.example"])).toBe(2);
    expect(output()).toContain("--domain pacs.example: the manual YAML serves korthweb.test");
    expect(output()).toContain("make manual-render");
    expect(output()).not.toContain("▶ 2/9");
  });

  it("each step runs alone with --help", async () => {
    for (const step of installSteps) {
      lines.length = 0;
      let printed = "";
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
      try {
        expect(await runTasks(step.id, [step], ["--help"])).toBe(0);
      } finally {
        process.stdout.write = write;
      }
      expect(printed).toContain(`${step.id}: ${step.title}`);
      expect(printed).toContain("--dry-run");
    }
  });
});

describe("manual-uninstall --dry-run", () => {
  it("removes newest first and keeps data, credentials, CA and namespaces unless --purge", async () => {
    expect(await runTasks("manual-uninstall", uninstallSteps, ["--dry-run"]), output()).toBe(0);
    const text = output();
    expectInOrder(text, [
      "would delete manual/08-observability/kiali.yaml", "helm uninstall kiali-operator", "helm uninstall kube-prometheus-stack",
      "would delete manual/07-security/authorization-policies.yaml",
      "would delete manual/06-routing/routing.yaml", "would delete manual/05-orthanc/orthanc.yaml", "helm uninstall orthanc-db",
      "would delete manual/03-cert-manager/ca-chain.yaml", "helm uninstall cert-manager",
      "helm uninstall istio-ingress", "helm uninstall istiod", "helm uninstall istio-cni", "helm uninstall istio-base",
    ]);
    expect(text).toContain("kept: the database volume");
    // The backup volume, like helm uninstall leaves it (helm.sh/resource-policy: keep).
    expect(text).toContain("kept: PersistentVolumeClaim orthanc/orthanc-backups (helm.sh/resource-policy: keep");
    expect(text).not.toMatch(/would delete.*PersistentVolumeClaim orthanc\/orthanc-backups/);
    expect(text).not.toContain("would delete namespace");
    lines.length = 0;
    expect(await runTasks("manual-uninstall", uninstallSteps, ["--dry-run", "--purge"])).toBe(0);
    expect(output()).not.toContain("kept: PersistentVolumeClaim orthanc/orthanc-backups");
    expectInOrder(output(), ["would delete namespace monitoring", "would delete the PersistentVolumeClaims labelled app.kubernetes.io/instance=orthanc-db in orthanc", "would delete namespace orthanc", "would delete namespace cert-manager", "would delete namespace istio-system"]);
  });
});

describe("pieces of the steps", () => {
  it("settings: only the committed domain, namespace and release", () => {
    expect(settingsMismatches(loadSettings({}))).toEqual([]);
    expect(settingsMismatches(loadSettings({ KORTHWEB_NAMESPACE: "pacs", KORTHWEB_RELEASE: "pacs" }))).toHaveLength(2);
  });

  it("installer: flag over environment, helm by default, and istioctl must match the pinned Istio minor", () => {
    expect(istioInstaller({}, {})).toBe("helm");
    expect(istioInstaller({}, { ISTIO_INSTALLER: "istioctl" })).toBe("istioctl");
    expect(istioInstaller({ "istio-installer": "helm" }, { ISTIO_INSTALLER: "istioctl" })).toBe("helm");
    expect(matchesPinnedIstio("v1.30.2")).toBe(true);
    expect(matchesPinnedIstio("1.31-dev+eed52ebb66ad")).toBe(false);
  });

  it("routing check: Gateway ports missing from the gateway Service", () => {
    const gateway = onlyObject(files.routing, "Gateway");
    expect(unexposedPorts(gateway, { spec: { ports: [{ port: 15021 }, { port: 443 }, { port: 11112 }] } })).toEqual([]);
    expect(unexposedPorts(gateway, { spec: { ports: [{ port: 80 }, { port: 443 }] } })).toEqual([11112]);
  });

  it("verify: running pods without istio-proxy (native sidecars count)", () => {
    const pod = (name: string, containers: string[], init: string[] = [], phase = "Running") => ({
      metadata: { name }, spec: { containers: containers.map((n) => ({ name: n })), initContainers: init.map((n) => ({ name: n })) }, status: { phase },
    });
    expect(podsWithoutSidecar([pod("a", ["orthanc", "istio-proxy"]), pod("b", ["orthanc"], ["istio-proxy"]), pod("c", ["orthanc"]), pod("d", ["x"], [], "Succeeded")])).toEqual(["c"]);
  });

  it("apply: retries only while a webhook is starting; delete tolerates CRDs that are gone", () => {
    expect(webhookNotReady('Internal error occurred: failed calling webhook "webhook.cert-manager.io": … connection refused')).toBe(true);
    expect(webhookNotReady('Certificate.cert-manager.io "x" is invalid: spec.dnsNames: Required value')).toBe(false);
    expect(crdGone('error: resource mapping not found for name: "kiali" namespace: "istio-system" from "STDIN": no matches for kind "Kiali" in version "kiali.io/v1alpha1"\nensure CRDs are installed first')).toBe(true);
    expect(crdGone("Error from server (Forbidden): kialis.kiali.io is forbidden")).toBe(false);
  });

  it("consoles bind 127.0.0.1 only and print the URL", () => {
    expect(portForwardArgs("grafana", undefined)).toEqual(["port-forward", "--address", "127.0.0.1", "-n", "monitoring", "service/kube-prometheus-stack-grafana", "3000:80"]);
    expect(portForwardArgs("kiali", "lab")).toEqual(["--context", "lab", "port-forward", "--address", "127.0.0.1", "-n", "istio-system", "service/kiali", "20001:20001"]);
    expect(consoleUrl("kiali")).toBe("http://127.0.0.1:20001/kiali");
    expect(() => consoleName("prometheus")).toThrow(/expected grafana or kiali/);
  });
});
