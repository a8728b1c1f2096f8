// One real node per machine: it owns the interface kwnode0, the node IP and
// kube-proxy's iptables chains. vitest runs two files at once, so every test
// file that brings up a real node holds this lock from cluster-up to
// cluster-down; the others wait for it. util-linux's flock(1) holds it in a
// child whose stdin is our pipe: if this worker dies, the child sees EOF and
// the lock is released, so a crashed file never blocks the rest.
import { spawn, type ChildProcess } from "node:child_process";

export const realNodeLockFile = "/run/lock/korthweb-real-node.lock";

export interface HeldLock {
  waitedSeconds: number;
  release: () => void;
}

/** Waits (up to `timeoutMs`) until no other test file runs a real node, then holds the lock. */
export function holdRealNodeLock(timeoutMs: number, lockFile = realNodeLockFile): Promise<HeldLock> {
  const started = Date.now();
  const child: ChildProcess = spawn("flock", ["--exclusive", "--timeout", String(Math.ceil(timeoutMs / 1000)), lockFile, "sh", "-c", "echo held; exec cat >/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => reject(new Error(`flock (util-linux) could not start: ${error.message}`)));
    child.on("exit", (code) => reject(new Error(`the real-node lock ${lockFile} was not obtained within ${timeoutMs / 1000} s (flock exit ${code}): another test file keeps a real node running. ${stderr}`)));
    child.stdout!.once("data", () => {
      child.removeAllListeners("exit");
      resolve({
        waitedSeconds: (Date.now() - started) / 1000,
        release: () => {
          child.stdin!.end();
        },
      });
    });
  });
}
