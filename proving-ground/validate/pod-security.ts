// Pod Security Standards, profiles "baseline" and "restricted" (Kubernetes
// 1.34), for one pod spec: every control, at pod and container level, in the
// order the standard lists them. Windows-only exemptions are not applied: our
// workloads run on Linux, so a Windows-only field is itself a finding.
import type { Issue } from "./finding.ts";
import { asArray, asObject, get, type Json } from "./json.ts";

const rule = "pod-security" as const;

/** Volume types "restricted" allows. */
const allowedVolumeTypes = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

/** The "safe" sysctls that baseline allows (namespaced and isolated per pod). */
const safeSysctls = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
]);

/** SELinux types baseline allows; user and role may not be set at all. */
const allowedSeLinuxTypes = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);

const profileTypes = new Set(["RuntimeDefault", "Localhost"]);
const appArmorAnnotation = "container.apparmor.security.beta.kubernetes.io/";

/** Where a pod's metadata sits (its annotations carry the legacy AppArmor profile). */
export interface PodMetadata {
  annotations: Json;
  /** JSON path of metadata.annotations, e.g. spec.template.metadata.annotations. */
  path: string;
}

export function checkPodSecurity(spec: Json, base: string, metadata: PodMetadata): Issue[] {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ path, rule, message });
  const at = (path: string) => `${base}.${path}`;
  const podContext = asObject(spec.securityContext) ?? {};

  for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (spec[flag] === true) add(at(flag), `${flag} is forbidden`);
  }
  asArray(spec.volumes).forEach((volume, i) => {
    const type = Object.keys(volume).find((name) => name !== "name");
    if (type && !allowedVolumeTypes.has(type)) add(at(`volumes[${i}].${type}`), `volume type ${type} is not allowed under "restricted"`);
  });
  asArray(podContext.sysctls).forEach((sysctl, i) => {
    if (!safeSysctls.has(String(sysctl.name))) add(at(`securityContext.sysctls[${i}].name`), `sysctl ${String(sysctl.name)} is not in the safe set`);
  });
  for (const [key, value] of Object.entries(metadata.annotations)) {
    if (!key.startsWith(appArmorAnnotation) || typeof value !== "string") continue;
    if (value !== "runtime/default" && !value.startsWith("localhost/")) {
      add(`${metadata.path}[${JSON.stringify(key)}]`, `AppArmor profile ${value} is forbidden (runtime/default or localhost/* only)`);
    }
  }
  issues.push(...checkContext(podContext, at("securityContext")));
  const podSeccomp = get(podContext, "seccompProfile", "type");
  if (podSeccomp !== undefined && !profileTypes.has(String(podSeccomp))) add(at("securityContext.seccompProfile.type"), "must be RuntimeDefault or Localhost");
  const podNonRoot = podContext.runAsNonRoot === true;

  const groups = ["initContainers", "containers", "ephemeralContainers"] as const;
  for (const group of groups) {
    asArray(spec[group]).forEach((container, i) => {
      const c = (path: string) => at(`${group}[${i}].${path}`);
      const context = asObject(container.securityContext) ?? {};
      issues.push(...checkContext(context, c("securityContext")));
      if (context.privileged === true) add(c("securityContext.privileged"), "privileged containers are forbidden");
      if (context.allowPrivilegeEscalation !== false) add(c("securityContext.allowPrivilegeEscalation"), "must be false");
      if (!(context.runAsNonRoot === true || (podNonRoot && context.runAsNonRoot !== false))) {
        add(c("securityContext.runAsNonRoot"), "must be true (here or in the pod securityContext)");
      }
      const seccomp = get(context, "seccompProfile", "type") ?? podSeccomp;
      if (!profileTypes.has(String(seccomp))) add(c("securityContext.seccompProfile.type"), "must be RuntimeDefault or Localhost (here or in the pod)");
      if (context.procMount !== undefined && context.procMount !== "Default") add(c("securityContext.procMount"), `procMount ${String(context.procMount)} is forbidden (Default only)`);
      const drop = get(context, "capabilities", "drop");
      if (!Array.isArray(drop) || !drop.includes("ALL")) add(c("securityContext.capabilities.drop"), 'must include "ALL"');
      const capabilities = get(context, "capabilities", "add");
      for (const capability of Array.isArray(capabilities) ? capabilities : []) {
        if (capability !== "NET_BIND_SERVICE") add(c("securityContext.capabilities.add"), `capability ${String(capability)} may not be added (only NET_BIND_SERVICE)`);
      }
      asArray(container.ports).forEach((port, p) => {
        if (port.hostPort !== undefined && port.hostPort !== 0) add(c(`ports[${p}].hostPort`), "hostPort is forbidden");
      });
      issues.push(...checkHandlerHosts(container, c));
    });
  }
  return issues;
}

/** Controls that read the same fields in the pod's and each container's securityContext. */
function checkContext(context: Json, path: string): Issue[] {
  const issues: Issue[] = [];
  const add = (field: string, message: string) => issues.push({ path: `${path}.${field}`, rule, message });
  if (context.runAsUser === 0) add("runAsUser", "runs as root (uid 0)");
  if (get(context, "windowsOptions", "hostProcess") === true) add("windowsOptions.hostProcess", "HostProcess (privileged access to the Windows node) is forbidden");
  const appArmor = get(context, "appArmorProfile", "type");
  if (appArmor !== undefined && !profileTypes.has(String(appArmor))) add("appArmorProfile.type", `AppArmor profile ${String(appArmor)} is forbidden (RuntimeDefault or Localhost only)`);
  const seLinux = asObject(context.seLinuxOptions) ?? {};
  if (seLinux.type !== undefined && !allowedSeLinuxTypes.has(String(seLinux.type))) {
    add("seLinuxOptions.type", `SELinux type ${String(seLinux.type)} is forbidden (container_t, container_init_t, container_kvm_t or container_engine_t)`);
  }
  for (const field of ["user", "role"]) {
    if (seLinux[field] !== undefined && seLinux[field] !== "") add(`seLinuxOptions.${field}`, `a custom SELinux ${field} is forbidden`);
  }
  return issues;
}

/** Probes and lifecycle hooks may reach only the pod itself: a host would let them probe the node or other hosts (baseline since 1.34). */
function checkHandlerHosts(container: Json, c: (path: string) => string): Issue[] {
  const handlers = [
    ...["livenessProbe", "readinessProbe", "startupProbe"].map((probe) => [probe, container[probe]] as const),
    ...["postStart", "preStop"].map((hook) => [`lifecycle.${hook}`, get(container, "lifecycle", hook)] as const),
  ];
  const issues: Issue[] = [];
  for (const [path, handler] of handlers) {
    for (const action of ["httpGet", "tcpSocket"]) {
      const host = get(handler, action, "host");
      if (host !== undefined && host !== "") issues.push({ path: c(`${path}.${action}.host`), rule, message: "host must not be set: probes and hooks may only reach the pod itself" });
    }
  }
  return issues;
}
