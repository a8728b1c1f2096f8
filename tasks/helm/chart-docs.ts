// `make chart-docs`: the chart's generated files, from its annotated values.yaml:
// values.schema.json (values-schema.ts) and README.md, the values reference, by
// helm-docs (pinned in pins.goTools, built by `make setup-go-tools`) from
// README.md.gotmpl and the "# --" comments. A test fails when either is stale.
//   node tasks/helm/chart-docs.ts [--check]   write both, or only report stale ones (exit 1)
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { TaskError } from "../lib/errors.ts";
import { run } from "../lib/exec.ts";
import { fromRoot, toolsBinDir } from "../lib/paths.ts";
import { pins } from "../lib/settings.ts";
import { chartSchema, schemaText } from "./values-schema.ts";

export const chartDir = fromRoot("helm", "orthanc");

function helmDocsPath(): string {
  const path = join(toolsBinDir, "helm-docs");
  if (!existsSync(path)) {
    throw new TaskError(`helm-docs ${pins.goTools["helm-docs"].version} is not built in .tools/bin`, {
      code: "missingTool",
      hint: "run `make setup-go-tools` (builds it from the Go module proxy, pinned in tasks/lib/settings.ts)",
    });
  }
  return path;
}

/** README.md as helm-docs renders it now (values in file order, no version footer). */
export async function renderReadme(dir = chartDir): Promise<string> {
  const { stdout } = await run(helmDocsPath(), ["--chart-search-root", dir, "--sort-values-order", "file", "--skip-version-footer", "--log-level", "error", "--dry-run"], { silent: true });
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

if (import.meta.main) {
  const { values } = parseArgs({ options: { check: { type: "boolean" } } });
  const files = await generatedFiles();
  for (const file of files) {
    if (values.check) {
      if (isStale(file)) {
        process.stderr.write(`${file.path} is stale: run make chart-docs\n`);
        process.exitCode = 1;
      }
    } else if (isStale(file)) {
      writeFileSync(file.path, file.text);
      process.stdout.write(`wrote ${file.path}\n`);
    }
  }
}
