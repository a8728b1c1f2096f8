// How the manual steps apply the committed YAML: read a file under manual/,
// print what it holds, apply it server-side; and, right after a controller
// was installed, retry while its admission webhook is not serving yet.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { TaskError } from "../lib/errors.ts";
import { deleteWait, type Kube } from "../lib/kube.ts";
import { crdsOf } from "../lib/crds.ts";
import { describeObject, parseManifests, toYaml, type KubeObject } from "../lib/manifests.ts";
import type { CrdNeed } from "../lib/task.ts";
import { log } from "../lib/log.ts";
import { repoRoot } from "../lib/paths.ts";
import { waitUntil } from "../lib/wait.ts";
import { waitForRollout } from "../lib/kube-wait.ts";
import type { WorkloadKind } from "../lib/kube-status.ts";
import type { TaskContext } from "../lib/task.ts";

export const show = (path: string) => relative(repoRoot, path);

export function readObjects(path: string): KubeObject[] {
  return parseManifests(readFileSync(path, "utf8"), show(path)).map((item) => item.object);
}

/**
 * The file's objects as YAML, less those with helm's "keep" resource policy (the backup volume) that
 * already exist: created once and then left alone, as helm leaves them (re-applying a claim rewrites it).
 */
async function withoutExistingKept(ctx: TaskContext, objects: readonly KubeObject[], label: string): Promise<string> {
  const existing: KubeObject[] = [];
  for (const object of objects.filter(keptOnUninstall)) {
    const namespace = typeof object.metadata?.namespace === "string" ? object.metadata.namespace : undefined;
    if (await ctx.kube.get(String(object.kind), String(object.metadata?.name), namespace)) existing.push(object);
  }
  for (const object of existing) log.info(`exists, left as is: ${describeObject(object)} from ${label} (helm.sh/resource-policy: keep)`);
  return toYaml(objects.filter((object) => !existing.includes(object)));
}

/** A webhook that is registered but not answering yet: worth retrying. */
export const webhookNotReady = (message: string): boolean =>
  /failed calling webhook|no endpoints available for service|connection refused|certificate signed by unknown authority|context deadline exceeded/i.test(message);

/** Apply a committed file; with `retryWebhook`, keep retrying while an admission webhook is starting. */
export async function applyFile(ctx: TaskContext, path: string, options: { retryWebhook?: boolean } = {}): Promise<void> {
  const label = show(path);
  const text = await withoutExistingKept(ctx, readObjects(path), label);
  if (ctx.dryRun || !options.retryWebhook) {
    await ctx.kube.apply(text, label);
    return;
  }
  let fatal: unknown;
  await waitUntil({
    what: `${label} to be accepted (admission webhooks starting)`,
    timeoutMs: ctx.settings.timeoutSeconds * 1000,
    intervalMs: 5_000,
    check: async () => {
      try {
        await ctx.kube.apply(text, label);
        return { done: true, status: "applied" };
      } catch (error) {
        const message = (error as Error).message;
        if (webhookNotReady(message)) return { done: false, status: message.split("\n").find((line) => /webhook|endpoints|refused/i.test(line))?.trim() ?? "webhook not ready" };
        fatal = error;
        return { done: true, status: "failed" };
      }
    },
  });
  if (fatal) throw fatal;
}

/** kubectl's complaint when a kind's CRD is gone: then there is nothing of that kind to delete. */
export const crdGone = (stderr: string): boolean =>
  stderr.split("\n").filter((line) => line.trim()).every((line) => /no matches for kind|resource mapping not found|ensure CRDs are installed/i.test(line));

/** Objects rendered with helm's "keep" resource policy (the backup volume): helm uninstall leaves them, and so do we. */
export const keptOnUninstall = (object: KubeObject): boolean =>
  (object.metadata?.annotations as Record<string, unknown> | undefined)?.["helm.sh/resource-policy"] === "keep";

/**
 * Delete what a committed file defines, newest first; objects or CRDs already gone are fine. Objects with
 * helm's "keep" resource policy stay unless `purge` (as with helm uninstall).
 */
export async function deleteFile(kube: Kube, path: string, options: { purge?: boolean } = {}): Promise<void> {
  const all = readObjects(path);
  const objects = options.purge ? all : all.filter((object) => !keptOnUninstall(object));
  for (const kept of all.filter((object) => !objects.includes(object))) log.info(`kept: ${describeObject(kept)} (helm.sh/resource-policy: keep; --purge or PURGE=1 deletes it)`);
  if (kube.dryRun) {
    await kube.deleteManifests(objects, show(path));
    return;
  }
  const result = await kube.kubectl(["delete", "--ignore-not-found", ...deleteWait, "-f", "-"], { input: toYaml([...objects].reverse()), allowFailure: true });
  if (result.exitCode !== 0 && !crdGone(result.stderr)) throw new TaskError(`deleting ${show(path)} failed: ${result.stderr.trim()}`);
  for (const line of result.stdout.trim().split("\n").filter(Boolean)) log.ok(line);
}

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export async function waitForWorkload(ctx: TaskContext, workload: WorkloadRef): Promise<void> {
  await waitForRollout(ctx.kube, workload.kind, workload.name, workload.namespace, ctx.settings.timeoutSeconds);
}

/** The one object of `kind` in a committed file (the tests and steps rely on there being exactly one). */
export function onlyObject(path: string, kind: string): KubeObject {
  const found = readObjects(path).filter((object) => object.kind === kind);
  if (found.length !== 1) throw new TaskError(`${show(path)}: expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

/** The CRDs the objects of these committed files need, and which step installs them. */
export function crdsOfFiles(paths: readonly string[], installedBy: string): CrdNeed {
  return { names: crdsOf(paths.flatMap(readObjects)), hint: `run ${installedBy} first (it installs them), or make manual-install` };
}
