// A Go module with replace lines is built in a wrapper module that repeats
// them, read from the module's own go.mod; local-folder replaces cannot be
// repeated and are refused with the module named.
import { describe, expect, it } from "vitest";
import { replaceLines, wrapperGoMod } from "../../tasks/setup/wrapper-module.ts";

const build = { module: "example.com/tool", package: "example.com/tool/cmd/tool", version: "v1.2.3", ldflags: "", output: "/tmp/tool" };

describe("wrapper modules for Go tools with replace lines", () => {
  it("reads single and block replaces, ignoring comments", () => {
    const goMod = [
      "module example.com/tool",
      "replace github.com/a/b v0.3.2 => github.com/c/b v0.4.0 // fork",
      "replace (",
      "\tgithub.com/d/e => github.com/f/e v1.0.0",
      ")",
      "require github.com/x/y v1.0.0",
    ].join("\n");
    expect(replaceLines(goMod)).toEqual(["github.com/a/b v0.3.2 => github.com/c/b v0.4.0", "github.com/d/e => github.com/f/e v1.0.0"]);
  });

  it("writes a main module that requires the pinned version and repeats the replaces", () => {
    const text = wrapperGoMod(build, ["github.com/a/b v0.3.2 => github.com/c/b v0.4.0"]);
    expect(text).toContain("require example.com/tool v1.2.3");
    expect(text).toMatch(/replace \(\n\tgithub\.com\/a\/b v0\.3\.2 => github\.com\/c\/b v0\.4\.0\n\)/);
  });

  it("refuses local-folder replaces, naming the module", () => {
    expect(() => wrapperGoMod(build, ["github.com/a/b => ./third_party/b"])).toThrow(/example\.com\/tool@v1\.2\.3 replaces modules with local folders/);
  });
});
