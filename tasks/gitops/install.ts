// `make gitops-install`: bootstrap Flux on the current cluster and let it
// deploy the tree from your fork. Each step can also run alone
// (node tasks/gitops/NN-*.ts); every step is safe to re-run.
import { main } from "../lib/task.ts";
import { task as preflight } from "./01-preflight.ts";
import { task as flux } from "./02-flux.ts";
import { task as secrets } from "./03-secrets.ts";
import { task as source } from "./04-source.ts";
import { task as sync } from "./05-sync.ts";
import { task as wait } from "./06-wait.ts";
import { task as summary } from "./07-summary.ts";
import { task as smoke } from "./08-smoke.ts";

export const installSteps = [preflight, flux, secrets, source, sync, wait, summary, smoke];

if (import.meta.main) await main("gitops-install", installSteps);
