// The local overlay: the only changes the local stack makes to the chart's
// orthanc.json. In a pod the plugins sit in the image's folder, PostgreSQL is a
// Service and the storage folder a volume; here they are Debian's plugin
// folder, the private PostgreSQL on 127.0.0.1, and folders under .work/local.
// Everything else runs exactly as rendered (a test checks that).
import { basename, join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import type { LocalLayout } from "./layout.ts";
import type { JsonObject } from "../../tasks/lib/orthanc-config.ts";

/** Where Debian's orthanc-postgresql (and orthanc) put their plugins. */
export const debianPluginDir = "/usr/share/orthanc/plugins";

export interface OverlayInputs {
  /** The rendered configuration (bare references marked, not resolved). */
  rendered: JsonObject;
  layout: LocalLayout;
  postgresqlPort: number;
}

/** Builds the overlay. Plugins keep their file names; only their folder changes. */
export function localOverlay({ rendered, layout, postgresqlPort }: OverlayInputs): JsonObject {
  const plugins = rendered.Plugins;
  if (!Array.isArray(plugins) || plugins.length === 0 || !plugins.every((p): p is string => typeof p === "string")) {
    throw new TaskError("the rendered orthanc.json lists no Plugins; the local stack needs the PostgreSQL plugins named there", { code: "invalidValues" });
  }
  const postgresql = rendered.PostgreSQL;
  if (postgresql === null || typeof postgresql !== "object" || Array.isArray(postgresql)) {
    throw new TaskError("the rendered orthanc.json has no PostgreSQL section", { code: "invalidValues" });
  }
  const localPlugins = plugins.map((path) => {
    if (!path.endsWith(".so")) {
      throw new TaskError(`Plugins entry "${path}" is a folder; the local stack maps plugin files one by one`, {
        code: "invalidValues",
        hint: "list the plugin files (e.g. …/libOrthancPostgreSQLIndex.so) in the chart's Plugins",
      });
    }
    return join(debianPluginDir, basename(path));
  });
  return {
    Plugins: localPlugins,
    PostgreSQL: { Host: "127.0.0.1", Port: postgresqlPort },
    StorageDirectory: layout.orthanc.storage,
    IndexDirectory: layout.orthanc.index,
  };
}
