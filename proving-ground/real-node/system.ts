// The real node's system components, as their users install them: CoreDNS as
// the cluster DNS (our objects: CoreDNS publishes no install manifest in its
// module), local-path-provisioner and MetalLB from the install manifests in
// their own modules (deploy/local-path-storage.yaml, config/manifests/
// metallb-native.yaml, read from the Go module cache at the pinned version),
// with the images switched to ours and the parts we do not run taken out
// (MetalLB's speaker and validating webhook: the node's LoadBalancer pool is
// routed to the node's own interface and kube-proxy answers for it, so no
// L2/BGP announcement is needed; see docs/cluster.md).
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import { join } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import type { GoToolchain } from "../../tasks/lib/go.ts";
import { parseManifests, type KubeObject } from "../../tasks/lib/manifests.ts";
import { pins } from "../../tasks/lib/settings.ts";
import { addresses } from "./layout.ts";

export interface SystemImages {
  coredns: string;
  metallb: string;
  localPathProvisioner: string;
  /** An image with a shell, for the provisioner's helper pods (mkdir/rm of volume folders). */
  helper: string;
}

/** The folder a pinned module was downloaded to (Go's module cache). */
export async function moduleDir({ go, env }: GoToolchain, name: "metallb" | "localPathProvisioner"): Promise<string> {
  const pin = pins.realNode[name];
  const { stdout } = await run(go, ["mod", "download", "-json", `${pin.module}@${pin.version}`], { env, silent: true, cwd: "/" });
  return (JSON.parse(stdout) as { Dir: string }).Dir;
}

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

export function corednsObjects(image: string): KubeObject[] {
  const labels = { "k8s-app": "kube-dns" };
  // Port 5353 in the pod (a non-root process cannot bind 53); the Service maps 53 to it.
  const corefile = [
    ".:5353 {",
    "    errors",
    "    health :8080",
    "    ready :8181",
    `    kubernetes ${addresses.clusterDomain} in-addr.arpa ip6.arpa {`,
    "        pods insecure",
    "        fallthrough in-addr.arpa ip6.arpa",
    "    }",
    "    cache 30",
    "}",
    "",
  ].join("\n");
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "coredns", namespace: "kube-system" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns" },
      subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: "kube-system" }],
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "coredns", namespace: "kube-system" }, data: { Corefile: corefile } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: "kube-system", labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "coredns",
            priorityClassName: "system-cluster-critical",
            dnsPolicy: "Default",
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "coredns",
                image,
                imagePullPolicy: "Never",
                args: ["-conf", "/etc/coredns/Corefile"],
                ports: [
                  { name: "dns", containerPort: 5353, protocol: "UDP" },
                  { name: "dns-tcp", containerPort: 5353, protocol: "TCP" },
                ],
                readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 10 },
                resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                securityContext: restrictedContainer,
                volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "coredns" } }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: "kube-system", labels: { ...labels, "kubernetes.io/name": "CoreDNS" } },
      spec: {
        selector: labels,
        clusterIP: addresses.dnsServiceIp,
        ports: [
          { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
          { name: "dns-tcp", port: 53, targetPort: 5353, protocol: "TCP" },
        ],
      },
    },
  ];
}

type Container = { name: string; image?: string; imagePullPolicy?: string; command?: string[]; args?: string[] };
const containersOf = (object: KubeObject) => ((object.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers);

/** local-path-provisioner's own install manifest, with our image, our volume folder and a helper image we built. */
export function localPathObjects(moduleFolder: string, images: SystemImages, volumesDir: string): KubeObject[] {
  const file = join(moduleFolder, "deploy", "local-path-storage.yaml");
  const objects = parseManifests(readFileSync(file, "utf8"), file).map((item) => item.object);
  for (const object of objects) {
    if (object.kind === "Deployment") {
      for (const container of containersOf(object)) {
        container.image = images.localPathProvisioner;
        container.imagePullPolicy = "Never";
      }
    }
    if (object.kind === "StorageClass") {
      object.metadata = { ...object.metadata, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } };
    }
    if (object.kind === "ConfigMap" && object.metadata?.name === "local-path-config") {
      const data = object.data as Record<string, string>;
      data["config.json"] = JSON.stringify({ nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [volumesDir] }] }, null, 2);
      // The helper runs mkdir/rm in a root-owned host folder: root in the image we give it.
      const helper = parse(data["helperPod.yaml"]!) as { spec: { containers: Record<string, unknown>[] } };
      for (const container of helper.spec.containers) Object.assign(container, { image: images.helper, imagePullPolicy: "Never", securityContext: { runAsUser: 0, runAsGroup: 0 } });
      data["helperPod.yaml"] = stringify(helper);
    }
  }
  return objects;
}

/** MetalLB's native install manifest without the speaker and the validating webhook; the controller runs with webhooks off. */
export function metallbObjects(moduleFolder: string, image: string): KubeObject[] {
  const file = join(moduleFolder, "config", "manifests", "metallb-native.yaml");
  const objects = parseManifests(readFileSync(file, "utf8"), file)
    .map((item) => item.object)
    .filter((object) => object.kind !== "DaemonSet" && object.kind !== "ValidatingWebhookConfiguration");
  for (const object of objects) {
    if (object.kind !== "Deployment") continue;
    for (const container of containersOf(object)) {
      container.image = image;
      container.imagePullPolicy = "Never";
      container.args = [...(container.args ?? []), "--webhook-mode=disabled", "--disable-cert-rotation=true"];
    }
  }
  objects.push(
    {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name: "korthweb-node", namespace: "metallb-system" },
      spec: { addresses: [addresses.loadBalancerPool] },
    },
  );
  return objects;
}
