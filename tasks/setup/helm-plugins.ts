// Helm plugins of the project, kept in .tools/helm-plugins (HELM_PLUGINS points
// there) instead of the user's own plugin folder. `helm plugin install` would
// run the plugin's install hook, which downloads a release binary: we have
// built the binary from the module proxy ourselves (go-tools.ts), so the plugin
// folder is just a plugin.yaml whose command is that binary.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toolsDir } from "../lib/paths.ts";
import { pins } from "../lib/settings.ts";

export const helmPluginsDir = join(toolsDir, "helm-plugins");

/** plugin.yaml of `helm unittest`: helm's legacy (v1) plugin format, which helm 3 and 4 both read. */
export function unittestPluginYaml(binary: string): string {
  const version = pins.goTools["helm-unittest"].version.replace(/^v/, "");
  return [
    "# Written by tasks/setup/helm-plugins.ts: the helm-unittest binary built from the Go module proxy.",
    'name: "unittest"',
    `version: "${version}"`,
    'usage: "unit tests for helm charts (helm-unittest, built from the Go module proxy)"',
    'description: "helm-unittest pinned in tasks/lib/settings.ts (pins.goTools)"',
    "ignoreFlags: false",
    `command: "${binary}"`,
    "",
  ].join("\n");
}

/** Writes .tools/helm-plugins/unittest/plugin.yaml when missing or different; returns the plugins folder for HELM_PLUGINS. */
export function ensureUnittestPlugin(): string {
  const dir = join(helmPluginsDir, "unittest");
  const file = join(dir, "plugin.yaml");
  // Relative to the plugin folder: the same file serves every checkout that shares .tools.
  const want = unittestPluginYaml("$HELM_PLUGIN_DIR/../../bin/helm-unittest");
  if (!existsSync(file) || readFileSync(file, "utf8") !== want) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, want);
  }
  return helmPluginsDir;
}
