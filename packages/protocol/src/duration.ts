// One grammar for every duration an operator writes: config keys (interval: 500ms) and the
// controller CLI's options (pause --for 1h30m, switchover --timeout 3s).
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const BARE = /^(?:\d+\.?\d*|\.\d+)$/;

/**
 * "500ms", "1s", "1h30m" → milliseconds; undefined when the text is not a duration. A bare number
 * is one only where the caller names its unit (`bareUnit`): on its own, "1" could mean 1 ms or 1 s.
 */
export function parseDuration(text: string, bareUnit?: DurationUnit): number | undefined {
  if (bareUnit !== undefined && BARE.test(text)) return Math.round(Number(text) * UNIT_MS[bareUnit]);
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    ms += Number(amount) * UNIT_MS[unit as DurationUnit];
  }
  return Math.round(ms);
}

/** The shortest readable form of a duration, for messages: 28800000 → "8h". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const HINT = 'a duration with a unit, like "500ms", "1s", "5m" or "8h"';

/** A duration string in a config file, parsed to milliseconds; a bare number is refused, not guessed. */
export const Duration = z
  .string({ error: (issue) => (issue.input === undefined ? undefined : `expected ${HINT}`) })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not ${HINT}` });
      return z.NEVER;
    }
    return ms;
  });
