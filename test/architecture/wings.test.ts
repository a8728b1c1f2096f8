// The two wings (docs/architecture.md): imports run from the proving ground to the kit, never back
// outside the named entry points, and no files import each other in a circle.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { againstWingOrder, entryPoints, importCycles, importGraph, wingFolders, wingOf } from "../../proving-ground/checks/import-graph.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";

const folders = [...wingFolders.kit, ...wingFolders["proving-ground"], "test"];
const graph = importGraph(repoRoot, folders);

describe("the two wings", () => {
  it("reads the whole code base", () => {
    const files = [...graph.keys()];
    expect(files.filter((file) => wingOf(file) === "kit").length).toBeGreaterThan(80);
    expect(files.filter((file) => wingOf(file) === "proving-ground").length).toBeGreaterThan(60);
    // Every relative import resolves to a file that exists: the reader sees what tsc sees.
    const dangling = [...graph].flatMap(([from, targets]) => [...targets].filter((to) => !existsSync(`${repoRoot}/${to}`)).map((to) => `${from} → ${to}`));
    expect(dangling).toEqual([]);
  });

  it("the kit imports the proving ground only through the named entry points", () => {
    expect(againstWingOrder(graph)).toEqual([]);
  });

  it("every named entry point is still used (a stale exception is removed, not kept)", () => {
    for (const entry of entryPoints) expect(graph.get(entry.from), entry.from).toContain(entry.to);
  });

  it("no files import each other in a circle", () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it("the checks catch what they are for", () => {
    const planted = new Map<string, Set<string>>([
      ["smoke/cli.ts", new Set(["proving-ground/local/stack.ts"])],
      ["proving-ground/local/stack.ts", new Set(["smoke/target.ts"])],
      ["smoke/target.ts", new Set(["smoke/cli.ts"])],
    ]);
    expect(againstWingOrder(planted)).toEqual([{ from: "smoke/cli.ts", to: "proving-ground/local/stack.ts" }]);
    expect(importCycles(planted)).toEqual([["proving-ground/local/stack.ts", "smoke/cli.ts", "smoke/target.ts"]]);
    expect(importCycles(new Map([["a.ts", new Set(["a.ts"])]]))).toEqual([["a.ts"]]);
  });
});
