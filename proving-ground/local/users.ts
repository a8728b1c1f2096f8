// System accounts the Debian packages create (postgres, orthanc, haproxy): the
// local stack runs each server as its own account, not as root.
import { readFileSync } from "node:fs";
import { TaskError } from "../../tasks/lib/errors.ts";
import { run } from "../../tasks/lib/exec.ts";

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

export function systemUser(name: string, passwd = "/etc/passwd"): SystemUser {
  for (const line of readFileSync(passwd, "utf8").split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 4) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new TaskError(`the system user "${name}" does not exist`, {
    code: "missingTool",
    hint: "it comes with the Debian package; run `make local-packages` (as root)",
  });
}

/** Fails with advice when `user` cannot enter `path` (a private parent such as /root blocks it). */
export async function requireReachable(user: string, path: string): Promise<void> {
  const result = await run("runuser", ["-u", user, "--", "test", "-x", path], { silent: true, allowFailure: true });
  if (result.exitCode === 0) return;
  throw new TaskError(`the ${user} account cannot enter ${path}: one of its parent folders is private`, {
    code: "usage",
    hint: "put the stack's folder elsewhere, e.g. KORTHWEB_LOCAL_DIR=/var/tmp/korthweb-local make local-up",
  });
}
