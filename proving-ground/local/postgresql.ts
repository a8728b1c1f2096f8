// The stack's own PostgreSQL: Debian's server binaries run on a private data
// folder and port (never the system service), as user postgres, listening on
// 127.0.0.1 only, with SSL on (the chart asks for sslmode=require) and only
// SSL connections accepted over TCP.
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run, type RunResult } from "../../tasks/lib/exec.ts";
import { log } from "../../tasks/lib/log.ts";
import type { LocalLayout } from "./layout.ts";
import { logTail, readPid, isRunning, requirePortFree } from "../../tasks/lib/processes.ts";
import { portHint } from "./settings.ts";
import { requireReachable, systemUser } from "./users.ts";

/** The newest PostgreSQL server installed by Debian (/usr/lib/postgresql/<major>/bin). */
export function postgresqlBinDir(root = "/usr/lib/postgresql"): string {
  const majors = existsSync(root) ? readdirSync(root).filter((entry) => existsSync(join(root, entry, "bin", "pg_ctl"))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) {
    throw new TaskError("no PostgreSQL server binaries under /usr/lib/postgresql", { code: "missingTool", hint: "run `make local-packages` (as root)" });
  }
  return join(root, newest, "bin");
}

export class LocalPostgresql {
  readonly layout: LocalLayout["postgresql"];
  readonly port: number;
  readonly bin: string;

  constructor(layout: LocalLayout, port: number, bin = postgresqlBinDir()) {
    this.layout = layout.postgresql;
    this.port = port;
    this.bin = bin;
  }

  private asPostgres(tool: string, args: readonly string[], input?: string, allowFailure = false): Promise<RunResult> {
    return run("runuser", ["-u", "postgres", "--", join(this.bin, tool), ...args], { input, allowFailure, timeoutMs: 120_000 });
  }

  get pid(): number | undefined {
    const pid = readPid(join(this.layout.data, "postmaster.pid"));
    return isRunning(pid, realpathSync(join(this.bin, "postgres"))) ? pid : undefined;
  }

  /** The port the running server was started on (from postmaster.pid), if running. */
  get runningPort(): number | undefined {
    if (this.pid === undefined) return undefined;
    return Number(readFileSync(join(this.layout.data, "postmaster.pid"), "utf8").split("\n")[3]);
  }

  get initialized(): boolean {
    return existsSync(join(this.layout.data, "PG_VERSION"));
  }

  /** initdb, a self-signed server certificate, and an access list: peer for postgres on the socket, SSL + password over TCP. */
  async initialize(): Promise<void> {
    if (this.initialized) return;
    const postgres = systemUser("postgres");
    await requireReachable("postgres", dirname(this.layout.dir));
    for (const dir of [this.layout.dir, this.layout.socketDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chownSync(dir, postgres.uid, postgres.gid);
    }
    await this.asPostgres("initdb", ["-D", this.layout.data, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"]);
    await run("runuser", [
      "-u", "postgres", "--", "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
      "-keyout", join(this.layout.data, "server.key"), "-out", join(this.layout.data, "server.crt"),
    ]);
    const hba = [
      "# written by korthweb (proving-ground/local/postgresql.ts)",
      "local   all  postgres                peer",
      "hostssl all  all       127.0.0.1/32  scram-sha-256",
      "",
    ].join("\n");
    this.writeOwned(join(this.layout.data, "pg_hba.conf"), hba);
    const conf = join(this.layout.data, "postgresql.conf");
    this.writeOwned(conf, `${readFileSync(conf, "utf8")}\ninclude_if_exists = 'korthweb.conf'\n`);
    log.ok(`initialized a PostgreSQL cluster in ${this.layout.data}`);
  }

  private writeOwned(path: string, content: string): void {
    const postgres = systemUser("postgres");
    writeFileSync(path, content, { mode: 0o600 });
    chownSync(path, postgres.uid, postgres.gid);
  }

  /** Starts the server unless it already runs on the wanted port. */
  async start(): Promise<"started" | "running"> {
    const running = this.runningPort;
    if (running === this.port) return "running";
    if (running !== undefined) {
      log.info(`PostgreSQL runs on port ${running}; restarting it on ${this.port}`);
      await this.stop();
    }
    await requirePortFree(this.port, "the private PostgreSQL", portHint("postgresql"));
    this.writeOwned(
      this.layout.conf,
      [
        "# written by korthweb at each start (proving-ground/local/postgresql.ts)",
        "listen_addresses = '127.0.0.1'",
        `port = ${this.port}`,
        `unix_socket_directories = '${this.layout.socketDir}'`,
        "ssl = on",
        "ssl_cert_file = 'server.crt'",
        "ssl_key_file = 'server.key'",
        "ssl_min_protocol_version = 'TLSv1.2'",
        "",
      ].join("\n"),
    );
    const result = await this.asPostgres("pg_ctl", ["-D", this.layout.data, "-l", this.layout.log, "-w", "-t", "60", "start"], undefined, true);
    if (result.exitCode !== 0 || this.pid === undefined) {
      throw new TaskError(`PostgreSQL did not start (pg_ctl exit ${result.exitCode}); the end of ${this.layout.log}:\n${logTail(this.layout.log)}`);
    }
    return "started";
  }

  async stop(): Promise<boolean> {
    if (this.pid === undefined) return false;
    await this.asPostgres("pg_ctl", ["-D", this.layout.data, "-m", "fast", "-w", "-t", "60", "stop"]);
    return true;
  }

  /** Runs SQL as the superuser over the private socket; the text goes on stdin, never argv. */
  async sql(text: string): Promise<string> {
    const { stdout } = await this.asPostgres(
      "psql",
      ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", this.layout.socketDir, "-p", String(this.port), "-U", "postgres", "-d", "postgres"],
      text,
    );
    return stdout.trim();
  }

  /** Creates (or updates) the login role and the database the Orthanc configuration names. */
  async ensureDatabase(database: string, username: string, password: string): Promise<void> {
    const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
    await this.sql(
      [
        `SELECT format('CREATE ROLE %I LOGIN', ${literal(username)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(username)})\\gexec`,
        `SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', ${literal(username)}, ${literal(password)})\\gexec`,
        `SELECT format('CREATE DATABASE %I OWNER %I', ${literal(database)}, ${literal(username)}) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(database)})\\gexec`,
        "",
      ].join("\n"),
    );
  }

  /** Connections of a role, with whether each uses SSL. */
  async connectionsOf(username: string): Promise<{ ssl: boolean; version: string }[]> {
    const literal = `'${username.replaceAll("'", "''")}'`;
    const out = await this.sql(`SELECT s.ssl, coalesce(s.version, '') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = ${literal};`);
    return out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [ssl, version] = line.split("|");
        return { ssl: ssl === "t", version: version ?? "" };
      });
  }
}
