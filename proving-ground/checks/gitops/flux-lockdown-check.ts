// The tree works under Flux's multi-tenancy lockdown (flux-lockdown.ts), and
// keeps it meaningful: the platform's Kustomizations and HelmReleases name the
// account they run as (one that has rights: without a name Flux falls back to
// an account with none), no Flux object refers to a source in another
// namespace (Flux refuses it), nothing gives the fallback account rights, and
// no kustomization under gitops/ pulls a remote base (kustomize-controller
// refuses them). Tenants' accounts are checkLockdown's (checks.ts).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import type { KubeObject } from "../../../tasks/lib/manifests.ts";
import { record, text } from "../../../tasks/lib/values.ts";
import type { Problem } from "./checks.ts";
import { controllerAccounts, noRightsServiceAccount } from "../../../tasks/gitops/flux-lockdown.ts";
import { bootstrap, nameOf, namespaceOf, refId, type FluxTree, type Ref } from "../../../tasks/gitops/tree.ts";

interface Reconciled {
  kind: "Kustomization" | "HelmRelease";
  ref: Ref;
  serviceAccountName?: string;
  /** The sources it reads: a Kustomization's sourceRef, a HelmRelease's chart source. */
  sources: { kind: string; ref: Ref }[];
}

function reconciledObjects(tree: FluxTree): Reconciled[] {
  // The entry Kustomization is the bootstrap's object (flux.ts, tested there), not the tree's.
  const units = tree.units.filter((unit) => unit.object).map((unit): Reconciled => ({
    kind: "Kustomization",
    ref: unit.ref,
    ...(unit.serviceAccountName ? { serviceAccountName: unit.serviceAccountName } : {}),
    sources: [{ kind: unit.sourceRef.kind, ref: unit.sourceRef }],
  }));
  const releases = tree.releases.map((release): Reconciled => ({
    kind: "HelmRelease",
    ref: release.ref,
    ...(release.serviceAccountName ? { serviceAccountName: release.serviceAccountName } : {}),
    sources: [{ kind: release.chart.sourceKind, ref: release.chart.source }],
  }));
  return [...units, ...releases];
}

const bindsNoRightsAccount = (o: KubeObject) =>
  (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
  Array.isArray(o.subjects) &&
  o.subjects.some((subject) => record(subject).kind === "ServiceAccount" && text(record(subject).name) === noRightsServiceAccount);

export function checkFluxLockdown(tree: FluxTree): Problem[] {
  const problems: Problem[] = [];
  const tenantNamespaces = tree.tenants.flatMap((tenant) => tenant.namespaces);
  const platformAccounts = tree.objects.filter((o) => o.kind === "ServiceAccount" && namespaceOf(o) === bootstrap.namespace).map(nameOf);
  for (const object of reconciledObjects(tree)) {
    const subject = `${object.kind} ${refId(object.ref)}`;
    const add = (message: string) => problems.push({ check: "lockdown", subject, message });
    for (const source of object.sources) {
      if (source.ref.namespace !== object.ref.namespace) {
        add(`reads ${source.kind} ${refId(source.ref)} from another namespace: Flux runs with --no-cross-namespace-refs and refuses it (give ${object.ref.namespace} its own source)`);
      }
    }
    if (tenantNamespaces.includes(object.ref.namespace)) continue;
    const own = object.kind === "Kustomization" ? controllerAccounts.kustomization : controllerAccounts.helmRelease;
    if (!object.serviceAccountName) {
      add(`names no serviceAccountName: under Flux's --default-service-account it would run as ${noRightsServiceAccount}, with no rights (name ${own})`);
    } else if (object.ref.namespace === bootstrap.namespace && object.serviceAccountName !== own && !platformAccounts.includes(object.serviceAccountName)) {
      add(`runs as ${object.serviceAccountName}, which is neither ${own} (the controller's own account) nor a ServiceAccount the tree creates in ${bootstrap.namespace}`);
    }
  }
  for (const binding of tree.objects.filter(bindsNoRightsAccount)) {
    problems.push({
      check: "lockdown",
      subject: `${String(binding.kind)} ${namespaceOf(binding) ? `${namespaceOf(binding)}/` : ""}${nameOf(binding)}`,
      message: `gives ${noRightsServiceAccount} rights: it is the account Flux falls back to for objects that name none, and must have none`,
    });
  }
  return problems;
}

function kustomizationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return kustomizationFiles(path);
    return /^kustomization\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** A kustomize resource or component that is fetched, not a file or folder of the checkout. */
export const isRemoteBase = (entry: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^git@/.test(entry) || /^(github|gitlab|bitbucket)\.(com|org)\//.test(entry) || entry.includes("?ref=");

/** Remote bases in the kustomizations under gitops/: kustomize-controller runs with --no-remote-bases. */
export function checkNoRemoteBases(root: string): Problem[] {
  return kustomizationFiles(join(root, "gitops")).flatMap((file) => {
    const kustomization = record(parse(readFileSync(file, "utf8")) as unknown);
    const entries = [kustomization.resources, kustomization.components].flatMap((list) => (Array.isArray(list) ? list.map(String) : []));
    return entries.filter(isRemoteBase).map((entry): Problem => ({
      check: "lockdown",
      subject: relative(root, file),
      message: `remote base ${entry}: kustomize-controller runs with --no-remote-bases=true and refuses it (vendor it into the repository)`,
    }));
  });
}
