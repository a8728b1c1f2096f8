// Client certificates for DICOM peers, made with the openssl CLI (a maintained
// tool: Node's crypto can verify certificates but not issue them). Key
// material only ever travels through files in a private (0700) folder and,
// for the PKCS#12 passphrase, an environment variable of the openssl child:
// never on a command line, which any local user can read in /proc.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPrivateKey, randomInt, X509Certificate } from "node:crypto";
import { TaskError } from "./errors.ts";
import { run } from "./exec.ts";

export interface Pem {
  cert: string;
  key: string;
}

export interface IssueOptions {
  commonName: string;
  /** Validity; both default to now … now + days. */
  notBefore?: Date;
  notAfter?: Date;
  days?: number;
}

const openssl = "openssl";

/** A 0700 folder for one operation's files, removed afterwards whatever happens. */
export async function withPrivateDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "korthweb-pki-"));
  chmodSync(dir, 0o700);
  try {
    return await use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function writeSecretFile(path: string, content: string | Buffer): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

async function runOpenssl(args: readonly string[], what: string, env: Record<string, string> = {}): Promise<void> {
  const result = await run(openssl, args, { silent: true, allowFailure: true, env });
  if (result.exitCode !== 0) throw new TaskError(`openssl could not ${what}: ${(result.stderr || result.stdout).trim().split("\n").slice(-3).join(" ")}`);
}

const opensslDate = (date: Date) => `${date.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;

/** A new self-signed CA (ECDSA P-256) for client certificates. */
export async function newCa(commonName: string, days: number): Promise<Pem> {
  return withPrivateDir(async (dir) => {
    const key = join(dir, "ca.key");
    const cert = join(dir, "ca.crt");
    await runOpenssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], "make a CA key");
    await runOpenssl(
      ["req", "-x509", "-new", "-key", key, "-subj", `/CN=${commonName}`, "-days", String(days), "-out", cert,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
      "make a CA certificate",
    );
    return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  });
}

/**
 * A client certificate (ECDSA P-256, extendedKeyUsage clientAuth) signed by `ca`.
 * `openssl ca` rather than `x509 -req`: it alone sets arbitrary validity dates,
 * which the negative checks need (an expired certificate from the right CA).
 */
export async function issueClient(ca: Pem, options: IssueOptions): Promise<Pem> {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 397) * 86_400_000);
  return withPrivateDir(async (dir) => {
    const file = (name: string) => join(dir, name);
    writeFileSync(file("ca.crt"), ca.cert);
    writeSecretFile(file("ca.key"), ca.key);
    writeFileSync(file("index.txt"), "");
    writeFileSync(
      file("openssl.cnf"),
      [
        "[ca]",
        "default_ca = modality",
        "[modality]",
        `database = ${file("index.txt")}`,
        `new_certs_dir = ${dir}`,
        "rand_serial = yes",
        "default_md = sha256",
        "policy = anything",
        "unique_subject = no",
        "copy_extensions = none",
        "x509_extensions = client",
        "[anything]",
        "commonName = supplied",
        "[client]",
        "basicConstraints = critical,CA:FALSE",
        "keyUsage = critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage = clientAuth",
        "subjectKeyIdentifier = hash",
        "authorityKeyIdentifier = keyid,issuer",
        "",
      ].join("\n"),
    );
    await runOpenssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("client.key")], "make a client key");
    await runOpenssl(["req", "-new", "-key", file("client.key"), "-subj", `/CN=${options.commonName}`, "-out", file("client.csr")], "make a certificate request");
    await runOpenssl(
      ["ca", "-batch", "-notext", "-config", file("openssl.cnf"), "-cert", file("ca.crt"), "-keyfile", file("ca.key"), "-in", file("client.csr"), "-out", file("client.crt"),
        "-startdate", opensslDate(notBefore), "-enddate", opensslDate(notAfter)],
      "sign the client certificate",
    );
    return { cert: readFileSync(file("client.crt"), "utf8"), key: readFileSync(file("client.key"), "utf8") };
  });
}

/** A PKCS#12 bundle (key, certificate, CA) protected by `passphrase` (AES-256, PBKDF2: OpenSSL 3's defaults). */
export async function pkcs12(client: Pem, caCert: string, friendlyName: string, passphrase: string): Promise<Buffer> {
  return withPrivateDir(async (dir) => {
    const file = (name: string) => join(dir, name);
    writeFileSync(file("client.crt"), client.cert);
    writeSecretFile(file("client.key"), client.key);
    writeFileSync(file("ca.crt"), caCert);
    await runOpenssl(
      ["pkcs12", "-export", "-inkey", file("client.key"), "-in", file("client.crt"), "-certfile", file("ca.crt"), "-name", friendlyName, "-passout", "env:KORTHWEB_P12_PASSPHRASE", "-out", file("bundle.p12")],
      "write the PKCS#12 bundle",
      { KORTHWEB_P12_PASSPHRASE: passphrase },
    );
    return readFileSync(file("bundle.p12"));
  });
}

/** A passphrase people can type: 24 characters from an unambiguous alphabet (~139 bits). */
export function generatePassphrase(): string {
  const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  return Array.from({ length: 24 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** Checks a CA pair before it signs anything: both parse, the key is the certificate's, the certificate is a CA. */
export function checkCa(ca: Pem, where: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(ca.cert);
  } catch (error) {
    throw new TaskError(`${where}: the CA certificate does not parse: ${(error as Error).message}`);
  }
  if (!cert.ca) throw new TaskError(`${where}: the certificate is not a CA (basicConstraints CA:FALSE)`);
  let matches = false;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(ca.key));
  } catch {
    matches = false;
  }
  if (!matches) throw new TaskError(`${where}: the CA key does not belong to its certificate`);
  return cert;
}

/** Reads a CA pair from files; a missing file is an error naming it. */
export function readCaFiles(certFile: string, keyFile: string, hint: string): Pem {
  for (const file of [certFile, keyFile]) if (!existsSync(file)) throw new TaskError(`the modality CA is missing: no ${file}`, { hint });
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
