// Step 7: mutual TLS everywhere, deny by default, and the few flows Orthanc
// needs. Prints the flows the policies allow, computed from the YAML.
import { readFileSync } from "node:fs";
import { log } from "../lib/log.ts";
import { main, type Task } from "../lib/task.ts";
import { applyFile, crdsOfFiles } from "./apply.ts";
import { allowedFlows, authorizationPolicies } from "../../proving-ground/checks/manual/flows.ts";
import { files } from "./layout.ts";

export const task: Task = {
  id: "manual/07-security",
  cluster: true,
  title: "Security: STRICT mTLS, deny by default, explicit allows",
  summary:
    "Applies manual/07-security/peer-authentication.yaml (mesh-wide PeerAuthentication STRICT in istio-system) and authorization-policies.yaml (per namespace an allow-nothing policy, then ALLOW: anyone → gateway 443/11112; gateway → Orthanc 8042/4242; Prometheus → Orthanc 8042 GET /tools/metrics-prometheus; Orthanc → PostgreSQL 5432), and prints the resulting flows.",
  crds: () => crdsOfFiles([files.peerAuthentication, files.authorizationPolicies], "tasks/manual/02-istio.ts"),
  run: async (ctx) => {
    await applyFile(ctx, files.peerAuthentication);
    await applyFile(ctx, files.authorizationPolicies);
    const policies = authorizationPolicies(readFileSync(files.authorizationPolicies, "utf8"), files.authorizationPolicies);
    log.info("allowed flows (anything else is refused by the proxies):");
    for (const flow of allowedFlows(policies)) log.info(`  ${flow}`);
  },
};

if (import.meta.main) await main(task.id, [task]);
