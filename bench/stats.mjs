// Number formatting and medians shared by the benchmarks.

/** 1234.5 → "1,235"; undefined → "—". */
export const n = (x) => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));

export function median(xs) {
  const sorted = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const pct = (part, whole) => (part === undefined || !whole ? '—' : `${Math.round((100 * part) / whole)} %`);

/** The largest defined value, or undefined. */
export function worst(xs) {
  const defined = xs.filter((x) => x !== undefined);
  return defined.length === 0 ? undefined : Math.max(...defined);
}

/** "p50 350 ms  p99 641 ms  max 646 ms" of a list of durations in ms (sorts it). */
export function quantiles(xs) {
  xs.sort((a, b) => a - b);
  const q = (p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  return `p50 ${n(q(50))} ms  p99 ${n(q(99))} ms  max ${n(xs[xs.length - 1])} ms`;
}
