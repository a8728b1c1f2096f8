import { describe, expect, it } from "vitest";
import { waitUntil } from "../../tasks/lib/wait.ts";
import { useCapturedLog } from "../helpers/log.ts";

// A fake clock: sleeping advances time instantly.
function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe("waitUntil", () => {
  const lines = useCapturedLog();

  it("returns once the check is done and shows progress", async () => {
    const { now, sleep } = clock();
    let calls = 0;
    await waitUntil({ what: "thing", timeoutMs: 60_000, now, sleep, check: async () => ({ done: ++calls === 3, status: `try ${calls}` }) });
    expect(calls).toBe(3);
    expect(lines.some((line) => line.includes("waiting for thing") && line.includes("try 1"))).toBe(true);
    expect(lines.at(-1)).toContain("thing: try 3");
  });

  it("times out saying what it waited for, the last status and a hint", async () => {
    const { now, sleep } = clock();
    const wait = waitUntil({ what: "Deployment a/b to roll out", timeoutMs: 10_000, now, sleep, check: async () => ({ done: false, status: "1/2 available" }) });
    await expect(wait).rejects.toMatchObject({
      code: "timeout",
      exitCode: 8,
      message: "timed out after 10s waiting for Deployment a/b to roll out (last status: 1/2 available)",
    });
  });

  it("treats a failing check as a status, not a failure", async () => {
    const { now, sleep } = clock();
    let calls = 0;
    await waitUntil({
      what: "object",
      timeoutMs: 60_000,
      now,
      sleep,
      check: async () => {
        if (++calls < 2) throw new Error("connection refused");
        return { done: true, status: "" };
      },
    });
    expect(lines.some((line) => line.includes("connection refused"))).toBe(true);
  });
});
