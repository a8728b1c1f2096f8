// The repository scan (gitleaks with .gitleaks.toml, plus our structured scan
// of YAML/JSON) finds secret material where it must not be, and is quiet about
// references to secrets (names of Secrets, keys, files).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scanFile, scanHistory, scanRepository } from "../../proving-ground/audit/repo-scan.ts";
import { scratchDir } from "../helpers/scratch.ts";

// Built at run time so that no secret-looking text sits in this file.
const pemKey = ["-----BEGIN", "PRIVATE KEY-----\nMIIfake\n-----END", "PRIVATE KEY-----"].join(" ");
const awsKey = `AKIA${"ABCDEFGHIJKLMNOP"}`;
const urlWithPassword = ["postgresql://orthanc", "s3cretpw@db:5432/orthanc"].join(":");

const fakeToken = ["abcdef", "123456"].join("");
const githubToken = ["ghp_", "k3Xq9TzR2mW8vL5nB7yH4cJ1dF6gS0pA", "e2Qu"].join("");

describe("gitleaks over the files of a repository", () => {
  it.each([
    ["notes.txt", `a key:\n${pemKey}\n`, 2, "PEM private key (gitleaks rule private-key)"],
    ["deploy.sh", `export AWS_ACCESS_KEY_ID=${awsKey}\n`, 1, "aws-access-token"],
    ["config.ts", `const url = "${urlWithPassword}";\n`, 1, "URL with a password (user:password@host) (gitleaks rule url-with-password)"],
    ["ci.env", `GITHUB_TOKEN=${githubToken}\n`, 1, "(gitleaks rule github-pat)"],
  ])("finds the secret in %s, naming file and line", async (name, text, line, reason) => {
    const root = scratchDir("korthweb-scan-");
    execFileSync("git", ["init", "-q", root]);
    writeFileSync(join(root, name), text);
    const hits = await scanRepository(root);
    expect(hits, JSON.stringify(hits)).toContainEqual(expect.objectContaining({ file: name, line, reason: expect.stringContaining(reason) }));
  });
});

describe("scanFile (our structured scan of YAML and JSON)", () => {
  it.each([
    ["values.yaml", "database:\n  host: db\n  password: hunter22\n", 3, "database.password"],
    ["orthanc.json", `{\n  "RegisteredUsers": { "admin": "orthanc" }\n}\n`, 1, "RegisteredUsers"],
    ["secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: { name: x }\nstringData: { password: abc }\n", 2, "a Secret with data is committed"],
  ])("finds the secret in %s", (name, text, line, reason) => {
    const hits = scanFile(name, text);
    expect(hits, JSON.stringify(hits)).toContainEqual(expect.objectContaining({ file: name, line, reason: expect.stringContaining(reason) }));
  });

  it("ignores references to secrets and placeholders", () => {
    const text = [
      "auth: { existingSecret: orthanc-admin, usernameKey: username, passwordKey: password }",
      "tls: { secretName: orthanc-tls, credentialName: orthanc-tls }",
      "env: [{ name: DB_PASSWORD_FILE, value: /run/secrets/db }]",
      "annotations: { checksum/credentials: 0123abcd }",
      'orthanc: { RegisteredUsers: { "${ORTHANC_USERNAME}": "${ORTHANC_PASSWORD}" }, Password: "" }',
      "url: postgresql://orthanc:${DB_PASSWORD}@db/orthanc",
    ].join("\n");
    expect(scanFile("values.yaml", text)).toEqual([]);
  });
});

describe("scanRepository", () => {
  it("scans tracked and untracked files, skipping ignored ones", async () => {
    const root = scratchDir("korthweb-scan-");
    execFileSync("git", ["init", "-q", root]);
    mkdirSync(join(root, "deploy"));
    writeFileSync(join(root, ".gitignore"), "local/\n");
    writeFileSync(join(root, "deploy", "values.yaml"), `token: ${fakeToken}\n`);
    mkdirSync(join(root, "local"));
    writeFileSync(join(root, "local", "creds.yaml"), "password: ignored-by-git\n");
    execFileSync("git", ["-C", root, "add", "deploy/values.yaml"]);
    writeFileSync(join(root, "untracked.yaml"), "apiKey: zzzz9999\n");
    const hits = await scanRepository(root);
    expect(hits.map((hit) => hit.file).sort()).toEqual(["deploy/values.yaml", "untracked.yaml"]);
  });

  it("finds nothing in this repository", async () => {
    expect(await scanRepository()).toEqual([]);
  });
});

describe("scanHistory", () => {
  const git = (root: string, ...args: string[]) => execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@t.test", ...args]);

  it("finds a key that a later commit deleted, naming the file, commit and line; allow-listed fixtures pass", async () => {
    const root = scratchDir("korthweb-history-");
    execFileSync("git", ["init", "-q", root]);
    writeFileSync(join(root, "notes.txt"), `first line\n${pemKey}\n`);
    mkdirSync(join(root, "test/fixtures/validate/bad"), { recursive: true });
    writeFileSync(join(root, "test/fixtures/validate/bad/key.txt"), `${pemKey}\n`);
    git(root, "add", ".");
    git(root, "commit", "-qm", "oops");
    const commit = git(root, "rev-parse", "--short=8", "HEAD").toString().trim();
    git(root, "rm", "-q", "notes.txt");
    git(root, "commit", "-qm", "remove it");
    expect(await scanRepository(root)).toEqual([]);
    expect(await scanHistory(root)).toEqual([{ file: `notes.txt@${commit}`, line: 2, reason: `PEM private key (gitleaks rule private-key) (added in commit ${commit})` }]);
  });

  it("finds nothing in this repository's history", async () => {
    expect(await scanHistory()).toEqual([]);
  });
});
