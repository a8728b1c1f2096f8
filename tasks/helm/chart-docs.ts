// `make chart-docs`: the chart's generated files, from its annotated values.yaml:
// values.schema.json (values-schema.ts) and README.md, the values reference, by
// helm-docs (pinned in pins.goTools, built by `make setup-go-tools`) from
// README.md.gotmpl and the "# --" comments. A test fails when either is stale.
//   node tasks/helm/chart-docs.ts [--check]   write both, or only report stale ones (exit 9)
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { log } from "../lib/log.ts";
import { displayPath, fromRoot } from "../lib/paths.ts";
import { builtGoTool } from "../lib/tools.ts";
import { main, type Task } from "../lib/task.ts";
import { chartSchema, schemaText } from "./values-schema.ts";

export const chartDir = fromRoot("helm", "orthanc");


/** README.md as helm-docs renders it now (values in file order, no version footer). */
export async function renderReadme(dir = chartDir): Promise<string> {
  const { stdout } = await run(builtGoTool("helm-docs"), ["--chart-search-root", dir, "--sort-values-order", "file", "--skip-version-footer", "--log-level", "error", "--dry-run"], { silent: true });
  return stdout;
}

export interface GeneratedFile {
  path: string;
  text: string;
}

/** The generated files with what they should hold; throws naming keys without a description. */
export async function generatedFiles(dir = chartDir): Promise<GeneratedFile[]> {
  const { schema, undescribed } = chartSchema(dir);
  if (undescribed.length) {
    throw new TaskError(`${join(dir, "values.yaml")}: keys without a "# --" description: ${undescribed.join(", ")}`, {
      hint: 'write a "# -- what it does" comment line above each of them',
    });
  }
  return [
    { path: join(dir, "values.schema.json"), text: schemaText(schema) },
    { path: join(dir, "README.md"), text: await renderReadme(dir) },
  ];
}

export const isStale = (file: GeneratedFile) => !existsSync(file.path) || readFileSync(file.path, "utf8") !== file.text;

export const chartDocsTask: Task = {
  id: "helm/chart-docs",
  title: "Generate helm/orthanc's values.schema.json and README.md from the annotated values.yaml",
  summary:
    "Writes values.schema.json (types from the defaults, constraints from the # @schema blocks) and README.md, the values reference, " +
    "by helm-docs from the # -- comments, where they differ. --check writes nothing and exits 9 when either is stale; --dry-run names what would be written.",
  flags: { check: { type: "boolean", description: "write nothing; exit 9 when a generated file is stale" } },
  run: async (ctx) => {
    const stale = (await generatedFiles()).filter(isStale);
    if (ctx.flags.check === true) {
      if (stale.length > 0) {
        throw new TaskError(`${stale.map((file) => displayPath(file.path)).join(", ")} no longer match helm/orthanc/values.yaml`, {
          code: "findings",
          hint: "run `make chart-docs` and commit the result",
        });
      }
      log.ok("values.schema.json and README.md match values.yaml");
      return;
    }
    if (stale.length === 0) return log.ok("values.schema.json and README.md already match values.yaml: nothing to write");
    for (const file of stale) {
      if (ctx.dryRun) {
        log.info(`[dry-run] would write ${displayPath(file.path)}`);
        continue;
      }
      writeFileSync(file.path, file.text);
      log.ok(`wrote ${displayPath(file.path)}`);
    }
  },
};

if (import.meta.main) await main("chart-docs", [chartDocsTask]);
