// Which tool installs Istio's control plane: its Helm charts (default) or
// istioctl with manual/02-istio/istio-operator.yaml (ISTIO_INSTALLER=istioctl).
// istioctl installs the Istio version it was built for, so it must be the
// pinned charts' version.
import { TaskError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";
import { pins } from "../lib/settings.ts";
import type { FlagSpec, FlagValues } from "../lib/task.ts";
import { requireToolPath, toolVersion } from "../lib/tools.ts";
import { parseVersion } from "../lib/version.ts";

export type IstioInstaller = "helm" | "istioctl";

export const installerFlag: Record<string, FlagSpec> = {
  "istio-installer": { type: "string", description: "helm (Istio's charts, default) or istioctl (IstioOperator file) [env ISTIO_INSTALLER]" },
};

export function istioInstaller(flags: FlagValues, env: NodeJS.ProcessEnv = process.env): IstioInstaller {
  const raw = typeof flags["istio-installer"] === "string" ? flags["istio-installer"] : env.ISTIO_INSTALLER || "helm";
  if (raw !== "helm" && raw !== "istioctl") {
    throw new TaskError(`invalid Istio installer "${raw}": expected helm or istioctl`, { code: "usage", hint: "--istio-installer helm|istioctl, or ISTIO_INSTALLER=istioctl" });
  }
  return raw;
}

/** Same major.minor as the pinned Istio charts. */
export const matchesPinnedIstio = (version: string): boolean => {
  const have = parseVersion(version);
  const want = parseVersion(pins.istio.version);
  return have !== undefined && want !== undefined && have[0] === want[0] && have[1] === want[1];
};

export async function checkIstioctl(dryRun: boolean): Promise<string> {
  const path = requireToolPath("istioctl");
  const version = await toolVersion("istioctl", path);
  if (matchesPinnedIstio(version)) {
    log.ok(`istioctl ${version} (${path})`);
    return path;
  }
  const message = `istioctl at ${path} is ${version || "of unknown version"}; installing Istio ${pins.istio.version} needs istioctl ${pins.istio.version}`;
  const hint = `download istioctl ${pins.istio.version} from https://github.com/istio/istio/releases and set KORTHWEB_ISTIOCTL to it (the .tools/bin build only analyses files)`;
  if (dryRun) {
    log.warn(`${message} (a real run stops here: ${hint})`);
    return path;
  }
  throw new TaskError(message, { code: "missingTool", hint });
}
