// `make helm-install`: the helm approach in one command. Each step can also
// run alone (node tasks/helm/NN-*.ts); every step is safe to re-run.
import { main } from "../lib/task.ts";
import { task as preflight } from "./01-preflight.ts";
import { task as credentials } from "./02-credentials.ts";
import { task as traefik } from "./03-traefik.ts";
import { task as postgresql } from "./04-postgresql.ts";
import { task as orthanc } from "./05-orthanc.ts";
import { task as wait } from "./06-wait.ts";
import { task as summary } from "./07-summary.ts";

export const installSteps = [preflight, credentials, traefik, postgresql, orthanc, wait, summary];

if (import.meta.main) await main("helm-install", installSteps);
