// What the AuthorizationPolicies in manual/07-security allow, for the manual
// approach's mesh (proving-ground/checks/manual/mesh.ts, root namespace istio-system): the
// shared evaluator (proving-ground/checks/istio-authorization.ts) applied to this
// approach's workloads. Tests compare the result with mesh.ts' intendedFlows.
//   node proving-ground/checks/manual/flows.ts    print the allowed flows
import { readFileSync } from "node:fs";
import type { KubeObject } from "../../../tasks/lib/manifests.ts";
import { allowedFlows as flowsAmong, authorizationPolicies, type MeshWorkload } from "../istio-authorization.ts";
import { files, namespaces } from "../../../tasks/manual/layout.ts";
import { meshWorkloads } from "./mesh.ts";

export { allowedRequests, authorizationPolicies, matchesValue, outsideWorld } from "../istio-authorization.ts";

/** Every allowed flow among the manual approach's workloads (or `workloads`), as "source -> destination:port[ restriction]". */
export const allowedFlows = (policies: readonly KubeObject[], workloads: readonly MeshWorkload[] = Object.values(meshWorkloads)): string[] =>
  flowsAmong(policies, workloads, namespaces.istio);

if (import.meta.main) {
  const policies = authorizationPolicies(readFileSync(files.authorizationPolicies, "utf8"), files.authorizationPolicies);
  for (const flow of allowedFlows(policies)) process.stdout.write(`${flow}\n`);
}
