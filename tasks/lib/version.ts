// Version strings as tools print them: "v1.35.2", "1.33.9-gke.1", "Client Version: v1.32.4-dispatcher".

/** The first dotted version in the text, as numbers, e.g. [1, 35, 2]. */
export function parseVersion(text: string): number[] | undefined {
  const match = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** Negative when a < b, zero when equal, positive when a > b (missing parts count as 0). */
export function compareVersions(a: string, b: string): number {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (!left || !right) throw new Error(`cannot compare versions "${a}" and "${b}"`);
  for (let i = 0; i < 3; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
