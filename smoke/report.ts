// The suite's output: a table row per check (result, time, and the detail or
// the likely cause), a summary line, and the JSON report file.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { style } from "../tasks/lib/log.ts";
import type { CheckResult, SmokeReport } from "./checks.ts";

const mark = { pass: style.green("pass"), fail: style.red("FAIL"), skip: style.yellow("skip") };

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export const titleWidth = 58;

export function tableHeader(): string {
  return style.bold(`  ${"check".padEnd(titleWidth)} ${"result".padEnd(6)} ${"time".padStart(8)}  detail / likely cause`);
}

export function tableRow(result: CheckResult): string {
  const text = result.status === "pass" ? result.detail : (result.cause ?? "");
  return `  ${result.title.padEnd(titleWidth)} ${mark[result.status]}   ${formatMs(result.ms).padStart(8)}  ${text}`;
}

export function summaryLine(report: SmokeReport): string {
  const count = (status: CheckResult["status"]) => report.checks.filter((c) => c.status === status).length;
  const text = `${count("pass")} passed, ${count("fail")} failed, ${count("skip")} skipped in ${formatMs(report.ms)}`;
  return report.passed ? style.green(`✓ smoke: ${text}`) : style.red(`✗ smoke: ${text}`);
}

export function writeReport(file: string, report: SmokeReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
