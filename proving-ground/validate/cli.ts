// `make validate`: render every approach, check every object, print one line
// per finding and a summary; exit non-zero on any finding.
import { parseArgs } from "node:util";
import { describeError, ExitCode, exitCodeOf } from "../../tasks/lib/errors.ts";
import { log, style } from "../../tasks/lib/log.ts";
import { formatFinding } from "./finding.ts";
import { repositorySources } from "./sources.ts";
import { dedupeFindings, validateSources } from "./validate.ts";

const usage = `usage: node proving-ground/validate/cli.ts [--quiet]

Renders every approach (helm template for each values set in helm/<chart>/ci/,
kubectl kustomize for each kustomization under gitops/, helm template of each
HelmRelease of this repository's charts that a gitops/clusters/ folder deploys,
every manifest under manual/) and checks every object strictly against the
pinned Kubernetes and CRD schemas and the workload policy. Needs no cluster.`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { help: { type: "boolean" }, quiet: { type: "boolean" } }, strict: true });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const started = performance.now();
  const results = await validateSources(await repositorySources());
  const findings = dedupeFindings(results.flatMap((result) => result.findings));
  const objects = results.reduce((sum, result) => sum + result.objects, 0);
  for (const result of results) {
    if (!values.quiet) log.info(`${result.findings.length ? style.red("✗") : style.green("✓")} ${result.source.label}: ${result.objects} objects`);
  }
  for (const finding of findings) process.stdout.write(`${formatFinding(finding)}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const summary = `${findings.length} finding${findings.length === 1 ? "" : "s"} in ${objects} objects from ${results.length} sources (${seconds}s)`;
  if (findings.length) log.error(summary);
  else log.plain(style.green(`✓ ${summary}`));
  return findings.length ? ExitCode.findings : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  log.error(describeError(error));
  process.exitCode = exitCodeOf(error);
}
