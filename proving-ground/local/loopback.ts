// Builds loopback-bind.so (see loopback-bind.c) into the stack's folder when it
// is missing or its source changed.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { run } from "../../tasks/lib/exec.ts";
import { fromRoot } from "../../tasks/lib/paths.ts";

export const loopbackSource = fromRoot("proving-ground", "local", "loopback-bind.c");

export async function buildLoopbackLibrary(output: string): Promise<void> {
  const source = readFileSync(loopbackSource);
  const hash = createHash("sha256").update(source).digest("hex");
  const stamp = `${output}.sha256`;
  if (existsSync(output) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === hash) return;
  mkdirSync(dirname(output), { recursive: true });
  await run("gcc", ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", output, loopbackSource, "-ldl"]);
  writeFileSync(stamp, `${hash}\n`);
}
