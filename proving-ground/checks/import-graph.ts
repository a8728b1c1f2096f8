// The house's import rules, checked: the kit (tasks/, smoke/) never imports the proving ground
// (proving-ground/) except through the named entry points below, and no files import each other
// in a circle. Our own code rather than dependency-cruiser or madge: both read TypeScript through
// the `typescript` package's compiler API, which TypeScript 7 (the native compiler we pin) no
// longer ships. Relative `import … from "./x.ts"` specifiers are all this codebase uses.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export type Wing = "kit" | "proving-ground";

/** Folders of TypeScript that belong to each wing (tests live apart, in test/, and may import anything). */
export const wingFolders: Record<Wing, readonly string[]> = {
  kit: ["tasks", "smoke"],
  "proving-ground": ["proving-ground"],
};

/**
 * The only kit → proving-ground imports allowed, each with why. Both are checks the install steps
 * run or print so that a user sees the same verdict the tests reach; the checks themselves live in
 * the proving ground because `make gitops-check` and the tests use them far more widely.
 */
export const entryPoints: readonly { from: string; to: string; why: string }[] = [
  {
    from: "tasks/gitops/01-preflight.ts",
    to: "proving-ground/checks/gitops/checks.ts",
    why: "the gitops install refuses a Flux tree whose graph, tenant lockdown, isolation or pins are broken, before changing the cluster",
  },
  {
    from: "tasks/gitops/01-preflight.ts",
    to: "proving-ground/checks/gitops/flux-lockdown-check.ts",
    why: "the same preflight refuses a tree that would not reconcile under the Flux multi-tenancy lockdown flags",
  },
  {
    from: "tasks/manual/07-security.ts",
    to: "proving-ground/checks/manual/flows.ts",
    why: "step 7 prints the flows its AuthorizationPolicies allow, computed by the same evaluator the tests use",
  },
];

export type ImportGraph = Map<string, Set<string>>;

function typescriptFiles(root: string, folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts")) out.push(relative(root, path));
    }
  };
  walk(join(root, folder));
  return out;
}

const importSpecifier = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** Every relative import of every .ts file under the folders, as paths relative to root. */
export function importGraph(root: string, folders: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const folder of folders) {
    for (const file of typescriptFiles(root, folder)) {
      const targets = new Set<string>();
      const text = readFileSync(join(root, file), "utf8");
      for (const match of text.matchAll(importSpecifier)) {
        const specifier = match[1] ?? match[2]!;
        targets.add(relative(root, resolve(root, dirname(file), specifier)));
      }
      graph.set(file, targets);
    }
  }
  return graph;
}

export function wingOf(file: string): Wing | undefined {
  for (const [wing, folders] of Object.entries(wingFolders) as [Wing, readonly string[]][]) {
    if (folders.some((folder) => file.startsWith(`${folder}/`))) return wing;
  }
  return undefined;
}

/** Kit files importing the proving ground outside the entry points. */
export function againstWingOrder(graph: ImportGraph, allowed = entryPoints): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const [from, targets] of graph) {
    if (wingOf(from) !== "kit") continue;
    for (const to of targets) {
      if (wingOf(to) === "proving-ground" && !allowed.some((entry) => entry.from === from && entry.to === to)) out.push({ from, to });
    }
  }
  return out;
}

/** Groups of files that import each other in a circle (strongly connected components of size > 1, or a self-import). */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative over the small graph.
  let index = 0;
  const indices = new Map<string, number>();
  const lowlinks = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    lowlinks.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        lowlinks.set(node, Math.min(lowlinks.get(node)!, lowlinks.get(next)!));
      } else if (onStack.has(next)) {
        lowlinks.set(node, Math.min(lowlinks.get(node)!, indices.get(next)!));
      }
    }
    if (lowlinks.get(node) === indices.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1 || graph.get(node)?.has(node)) cycles.push(group.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}
