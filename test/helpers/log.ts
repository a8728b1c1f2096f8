// Captures the task log for the current test file, cleared before each test.
import { afterAll, beforeEach } from "vitest";
import { captureLog } from "../../tasks/lib/log.ts";

export function useCapturedLog(): string[] {
  const lines: string[] = [];
  const restore = captureLog(lines);
  beforeEach(() => {
    lines.length = 0;
  });
  afterAll(restore);
  return lines;
}
