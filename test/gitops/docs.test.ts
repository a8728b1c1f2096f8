// docs/gitops.md matches the code: every step and flag is documented, and
// its "one folder plus one line" recipe produces exactly the fixture the
// third-tenant test checks.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { installSteps } from "../../tasks/gitops/install.ts";
import { uninstallSteps } from "../../tasks/gitops/uninstall.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";

const doc = readFileSync(fromRoot("docs", "gitops.md"), "utf8");

describe("docs/gitops.md", () => {
  it("has the order diagram and documents every install step and every flag", () => {
    expect(doc).toContain("```mermaid");
    for (const step of installSteps) expect(doc, step.id).toContain(`\`${step.id.split("/")[1]}\``);
    const flags = new Set([...installSteps, ...uninstallSteps].flatMap((step) => Object.keys(step.flags ?? {})));
    for (const flag of flags) {
      if (flag === "purge") expect(doc).toContain("PURGE=1");
      else expect(doc, flag).toContain(`--${flag}`);
    }
  });

  it("gives the recipe the third-tenant fixture follows: bhc's two files with the name replaced, and one line", () => {
    expect(doc).toContain("sed 's/bhc/ghc/g' gitops/tenants/bhc/kustomization.yaml          > gitops/tenants/ghc/kustomization.yaml");
    expect(doc).toContain("sed 's/bhc/ghc/g' gitops/tenants/bhc/workload/kustomization.yaml > gitops/tenants/ghc/workload/kustomization.yaml");
    for (const file of ["kustomization.yaml", "workload/kustomization.yaml"]) {
      const fromRecipe = readFileSync(fromRoot("gitops", "tenants", "bhc", file), "utf8").replaceAll("bhc", "ghc");
      expect(readFileSync(fromRoot("test", "fixtures", "gitops", "tenants", "ghc", file), "utf8"), file).toBe(fromRecipe);
    }
    expect(doc).toContain("#   - ../../tenants/ghc");
  });
});
