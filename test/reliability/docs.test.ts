// docs/reliability.md stays in step with the code: the helpers it offers for
// reuse exist where it says, each fault test it describes exists, and the
// local stack's --orthanc-instances flag is documented where users look.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromRoot } from "../../tasks/lib/paths.ts";
import { localFlags } from "../../proving-ground/local/settings.ts";

const doc = readFileSync(fromRoot("docs", "reliability.md"), "utf8");
const read = (path: string) => readFileSync(fromRoot(path), "utf8");

describe("docs/reliability.md", () => {
  it("names helpers that exist in the files it names", () => {
    const reuse = doc.slice(doc.indexOf("## Reusing the pieces"));
    const entries = [...reuse.matchAll(/^- `([^`]+\.ts)`([\s\S]*?)(?=^- |$(?![\s\S]))/gm)];
    expect(entries.map((entry) => entry[1])).toEqual(["proving-ground/local/scratch-stack.ts", "smoke/ingest.ts", "smoke/presence.ts", "proving-ground/local/runtime.ts"]);
    // A name may be a method of what a helper returns (LocalOrthanc.kill): look in the helpers' folders too.
    const folders = ["proving-ground/local", "smoke"].flatMap((dir) => readdirSync(fromRoot(dir)).filter((name) => name.endsWith(".ts")).map((name) => read(`${dir}/${name}`)));
    for (const [, file, text] of entries) {
      const source = [read(file!), ...folders].join("\n");
      const names = [...text!.matchAll(/`([A-Za-z]+)(?:\.[a-z]+)?\(?/g)].map((match) => match[1]!).filter((name) => /^[a-zA-Z]{3,}$/.test(name) && name !== "dir");
      expect(names.length, file).toBeGreaterThan(0);
      for (const name of names) expect(source, `${file} (or a helper it returns) should define ${name}`).toMatch(new RegExp(`\\b(function|class|const|async) ${name}\\b|^\\s+(static |async )*${name}\\(`, "m"));
    }
  });

  it("describes the fault tests that exist, with the ports they use", () => {
    const faults = read("test/reliability/faults.test.ts");
    const replicas = read("test/reliability/replicas.test.ts");
    for (const title of ["kill -9 Orthanc", "PostgreSQL restarted during ingest", "the TLS proxy killed"]) expect(faults).toContain(title);
    expect(replicas).toContain("negative control: with PostgreSQL Lock true");
    expect(faults).toMatch(/https: 24443/);
    expect(replicas).toMatch(/https: 25443/);
    expect(doc).toContain("24xxx for `faults.test.ts`, 25xxx for `replicas.test.ts`");
    expect(doc).toContain("The PostgreSQL database is locked by another instance of Orthanc");
    expect(replicas).toContain("The PostgreSQL database is locked by another instance of Orthanc");
  });

  it("the --orthanc-instances flag is a flag of the local stack and is documented with its variable", () => {
    expect(localFlags["orthanc-instances"]?.description).toContain("KORTHWEB_LOCAL_ORTHANC_INSTANCES");
    const smoke = read("docs/smoke.md");
    expect(smoke).toContain("`--orthanc-instances N` (env `KORTHWEB_LOCAL_ORTHANC_INSTANCES`");
    expect(smoke).toContain("[reliability.md](reliability.md)");
  });
});
