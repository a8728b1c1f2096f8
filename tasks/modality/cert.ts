// `make modality-cert NAME=ct-scanner-1`: a client certificate for one
// modality, signed by the deployment's modality CA (the only CA the DICOM port
// trusts), and what its administrator needs: PEM certificate and key, the
// modality CA, the CA of the server's certificate, and a PKCS#12 bundle with a
// generated passphrase. Inputs are checked before anything is asked of a
// cluster; the files appear all at once (a private folder renamed into place),
// so a failure leaves nothing behind. docs/modality-certificates.md.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { dirname, join } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { log, style } from "../lib/log.ts";
import { displayPath, fromRoot, workDir } from "../lib/paths.ts";
import { generatePassphrase, pkcs12, writeSecretFile } from "../lib/pki.ts";
import { main, type Task, type TaskContext } from "../lib/task.ts";
import { approaches, issue, type Approach, type Issued } from "./sources.ts";

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface Request {
  name: string;
  approach: Approach;
  tenant: string | undefined;
  days: number;
  out: string;
  force: boolean;
}

/** Every input checked, nothing touched: a bad one is a usage error naming the flag. */
export function readRequest(ctx: TaskContext): Request {
  const flag = (name: string) => (typeof ctx.flags[name] === "string" ? (ctx.flags[name] as string) : undefined);
  const name = flag("name");
  if (!name) throw new TaskError("--name is required: the modality's name, a DNS label such as ct-scanner-1", { code: "usage", hint: "make modality-cert NAME=ct-scanner-1" });
  if (!dnsLabel.test(name)) {
    throw new TaskError(`--name "${name}" is not a DNS label: 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. ct-scanner-1)`, { code: "usage" });
  }
  const approach = (flag("approach") ?? "helm") as Approach;
  if (!approaches.includes(approach)) throw new TaskError(`--approach "${approach}" is unknown: expected ${approaches.join(", ")}`, { code: "usage" });
  const tenant = flag("tenant");
  if (approach === "gitops") {
    if (!tenant) throw new TaskError(`--tenant is required with --approach gitops: one of ${ctx.settings.tenants.join(", ")}`, { code: "usage" });
    if (!ctx.settings.tenants.includes(tenant)) throw new TaskError(`--tenant "${tenant}" is not a tenant of the gitops approach (${ctx.settings.tenants.join(", ")})`, { code: "usage", hint: "tenants come from KORTHWEB_TENANTS / --tenants" });
  } else if (tenant) {
    throw new TaskError(`--tenant only applies to --approach gitops (got --approach ${approach})`, { code: "usage" });
  }
  const rawDays = flag("days") ?? "397";
  const days = Number(rawDays);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new TaskError(`--days "${rawDays}": expected a whole number of days from 1 to 3650`, { code: "usage" });
  const out = flag("out") ? fromRoot(flag("out")!) : join(workDir, "modality-certs", tenant ? `${tenant}-${name}` : name);
  const force = ctx.flags.force === true;
  if (existsSync(out) && readdirSync(out).length > 0 && !force) {
    throw new TaskError(`${displayPath(out)} already holds files`, { code: "usage", hint: "pass --force to replace them, or --out DIR" });
  }
  return { name, approach, tenant, days, out, force };
}

export interface KitFiles {
  cert: string;
  key: string;
  modalityCa: string;
  serverCa: string;
  p12: string;
  passphrase: string;
}

export const kitFiles = (dir: string, name: string): KitFiles => ({
  cert: join(dir, `${name}.crt`),
  key: join(dir, `${name}.key`),
  modalityCa: join(dir, "modality-ca.crt"),
  serverCa: join(dir, "server-ca.crt"),
  p12: join(dir, `${name}.p12`),
  passphrase: join(dir, `${name}.p12.passphrase`),
});

/** Writes the kit into a private sibling folder, then moves it into place. */
async function writeKit(request: Request, issued: Issued): Promise<KitFiles> {
  mkdirSync(dirname(request.out), { recursive: true });
  const staging = `${request.out}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o700 });
  chmodSync(staging, 0o700);
  try {
    const files = kitFiles(staging, request.name);
    const passphrase = generatePassphrase();
    writeFileSync(files.cert, issued.client.cert);
    writeSecretFile(files.key, issued.client.key);
    writeFileSync(files.modalityCa, issued.modalityCa);
    writeFileSync(files.serverCa, issued.serverCa);
    writeSecretFile(files.p12, await pkcs12(issued.client, issued.modalityCa, request.name, passphrase));
    writeSecretFile(files.passphrase, `${passphrase}\n`);
    if (request.force) rmSync(request.out, { recursive: true, force: true });
    renameSync(staging, request.out);
    return kitFiles(request.out, request.name);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

export const modalityCertTask: Task = {
  id: "modality-cert",
  title: "A client certificate for one modality (mutual TLS on DICOM port 11112)",
  summary:
    "Issues a client certificate for one modality, signed by the deployment's modality CA: local (the local stack's CA), helm (the chart's CA from its Secret), " +
    "manual or gitops (a cert-manager Certificate with usage client auth from Issuer orthanc-modality-ca in the gateway's namespace). " +
    "Writes <name>.crt, <name>.key, modality-ca.crt, server-ca.crt, <name>.p12 and its generated passphrase into .work/modality-certs/<name>/ (0700). " +
    "Register the modality's AE title in dicom.modalities too, or Orthanc rejects its associations. See docs/modality-certificates.md.",
  flags: {
    name: { type: "string", description: "the modality's name, a DNS label (e.g. ct-scanner-1); also the certificate's common name" },
    approach: { type: "string", description: "local | helm | manual | gitops (default helm)" },
    tenant: { type: "string", description: "gitops: the tenant (bhc, mhr)" },
    days: { type: "string", description: "validity in days (default 397)" },
    out: { type: "string", description: "output folder (default .work/modality-certs/<name>, or <tenant>-<name>)" },
    force: { type: "boolean", description: "replace the files of an earlier run in the output folder" },
  },
  validate: async (ctx) => {
    readRequest(ctx);
  },
  run: async (ctx) => {
    const request = readRequest(ctx);
    if (ctx.dryRun) {
      log.info(`${style.yellow("[dry-run]")} would issue a client certificate for ${request.name} (${request.approach}${request.tenant ? `, tenant ${request.tenant}` : ""}) into ${displayPath(request.out)}`);
      return;
    }
    const issued = await issue({ approach: request.approach, name: request.name, tenant: request.tenant, days: request.days, settings: ctx.settings, kube: ctx.kube });
    const files = await writeKit(request, issued);
    const cert = new X509Certificate(issued.client.cert);
    const show = displayPath;
    log.ok(`client certificate for ${request.name} from ${issued.source}, valid until ${cert.validTo}`);
    log.plain(`  ${show(files.cert)}        the modality's certificate (PEM)`);
    log.plain(`  ${show(files.key)}        its private key (PEM, 0600: give it to the modality only)`);
    log.plain(`  ${show(files.p12)}        both in a PKCS#12 bundle, passphrase in ${show(files.passphrase)}`);
    log.plain(`  ${show(files.modalityCa)}  the modality CA (issuer of the certificate)`);
    log.plain(`  ${show(files.serverCa)}    the CA to verify the server's certificate with`);
    log.plain("");
    log.plain("Next:");
    log.plain(`  register its AE title: dicom.modalities: [{name: ${request.name}, aet: <ITS AE TITLE>, host: <its address>, port: <its port>}]`);
    log.plain(`  try it: storescu +tls ${show(files.key)} ${show(files.cert)} +cf ${show(files.serverCa)} -aet <ITS AE TITLE> -aec ORTHANC <gateway address> 11112 file.dcm`);
  },
};

if (import.meta.main) await main("modality-cert", [modalityCertTask]);
