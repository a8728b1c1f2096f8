// `make manual-install`: the manual approach, step by step. Each step can also
// run alone (node tasks/manual/NN-*.ts --help); every step is safe to re-run.
import { main } from "../lib/task.ts";
import { task as preflight } from "./01-preflight.ts";
import { task as istio } from "./02-istio.ts";
import { task as certManager } from "./03-cert-manager.ts";
import { task as postgresql } from "./04-postgresql.ts";
import { task as orthanc } from "./05-orthanc.ts";
import { task as routing } from "./06-routing.ts";
import { task as security } from "./07-security.ts";
import { task as observability } from "./08-observability.ts";
import { task as verify } from "./09-verify.ts";

export const installSteps = [preflight, istio, certManager, postgresql, orthanc, routing, security, observability, verify];

if (import.meta.main) await main("manual-install", installSteps);
