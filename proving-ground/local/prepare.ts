// Step "render": helm template the chart, keep its certificates, build the
// effective Orthanc configuration (rendered + local overlay, ${VAR} references
// kept) and the container env spec, and write them under .work/local.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import type { Helm } from "../../tasks/lib/helm.ts";
import { log } from "../../tasks/lib/log.ts";
import { hostnames } from "../../tasks/lib/settings.ts";
import type { EnvSpec } from "./container-env.ts";
import { ensureLocalRoot, type LocalLayout } from "./layout.ts";
import { applyOverlay, parseTemplate, stringifyTemplate, type JsonObject } from "../../tasks/lib/orthanc-config.ts";
import { localOverlay } from "./overlay.ts";
import { checkTlsMaterial, renderOrthanc, type TlsFacts, type TlsMaterial } from "./render.ts";
import { writePrivate } from "./secret-store.ts";
import type { LocalSettings } from "./settings.ts";

export interface Prepared {
  source: string;
  overlay: JsonObject;
  /** The rendered configuration, parsed with references kept. */
  rendered: JsonObject;
  effective: JsonObject;
  env: EnvSpec[];
  tls: TlsFacts;
  /** True when certificates kept from an earlier render were reused. */
  keptCertificates: boolean;
}

function readTls(layout: LocalLayout): TlsMaterial | undefined {
  const { ca, cert, key } = layout.tls;
  if (![ca, cert, key].every((file) => existsSync(file))) return undefined;
  return { ca: readFileSync(ca, "utf8"), cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

function writeTls(layout: LocalLayout, tls: TlsMaterial): void {
  mkdirSync(layout.tls.dir, { recursive: true, mode: 0o700 });
  writeFileSync(layout.tls.ca, tls.ca);
  writeFileSync(layout.tls.cert, tls.cert);
  writePrivate(layout.tls.key, tls.key);
  // haproxy takes the leaf and its key in one file.
  writePrivate(layout.tls.proxyPem, `${tls.cert.trimEnd()}\n${tls.key.trimEnd()}\n`);
}

/**
 * The chart generates a new CA on every `helm template` (in a cluster it keeps
 * the first through lookup). Like the cluster, the local stack keeps the first
 * certificates while they stay valid for the hostnames, so clients that saved
 * the CA keep working.
 */
function chooseTls(layout: LocalLayout, rendered: TlsMaterial, names: string[], source: string): { tls: TlsFacts; kept: boolean } {
  const existing = readTls(layout);
  if (existing) {
    try {
      const facts = checkTlsMaterial(existing, names, `kept certificates in ${layout.tls.dir}`);
      if (!existsSync(layout.tls.proxyPem)) writeTls(layout, existing);
      return { tls: facts, kept: true };
    } catch (error) {
      log.warn(`replacing the kept certificates: ${(error as Error).message}`);
    }
  }
  const facts = checkTlsMaterial(rendered, names, `Secret tls from ${source}`);
  writeTls(layout, rendered);
  return { tls: facts, kept: false };
}

export async function prepare(helm: Helm, settings: LocalSettings, layout: LocalLayout): Promise<Prepared> {
  ensureLocalRoot(layout);
  const rendering = await renderOrthanc(helm, settings);
  log.ok(`rendered: ${rendering.source}`);
  mkdirSync(dirname(layout.manifests), { recursive: true, mode: 0o700 });
  writePrivate(layout.manifests, rendering.manifests);

  if (!rendering.tls) {
    throw new TaskError(`${rendering.source} rendered no Secret ${settings.release}-tls`, {
      code: "invalidValues",
      hint: `the local stack serves the chart-generated certificates; keep tls.mode "generate" in ${settings.valuesFiles.join(", ")}`,
    });
  }
  const names = Object.values(hostnames(settings.domain));
  const { tls, kept } = chooseTls(layout, rendering.tls, names, rendering.source);

  const rendered = parseTemplate(rendering.configText, `orthanc.json from ${rendering.source}`);
  const overlay = localOverlay({ rendered, layout, postgresqlPort: settings.ports.postgresql });
  const effective = applyOverlay(rendered, overlay);
  mkdirSync(layout.orthanc.dir, { recursive: true });
  writeFileSync(layout.orthanc.config, stringifyTemplate(effective), { mode: 0o644 });
  writeFileSync(layout.orthanc.overlay, `${JSON.stringify(overlay, null, 2)}\n`);
  writeFileSync(layout.orthanc.envSpec, `${JSON.stringify(rendering.env, null, 2)}\n`);
  return { source: rendering.source, overlay, rendered, effective, env: rendering.env, tls, keptCertificates: kept };
}
