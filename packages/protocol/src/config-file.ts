// The pieces both daemons' YAML config loaders share: every problem becomes one line naming the
// file, the key path and what is wrong (issues.ts); each package wraps those lines in its own ConfigError.
import YAML from 'yaml';
import { z } from 'zod';

export type YamlResult =
  | { readonly value: unknown; readonly problems?: never }
  | { readonly problems: string[] };

/** Parses YAML text; syntax errors name the file, line and column. */
export function parseYaml(text: string, source: string): YamlResult {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => {
        const [line, col] = [error.linePos?.[0].line ?? 0, error.linePos?.[0].col ?? 0];
        const first = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        const hint = /\[[0-9A-Fa-f:.]*\]:\d/.test(text.split('\n')[line - 1] ?? '')
          ? ' (quote IPv6 addresses: listen: "[::]:7420")'
          : '';
        return `${source}:${line}:${col}: YAML syntax: ${first}${hint}`;
      }),
    };
  }
  if (doc.contents === null) return { problems: [`${source}: the file is empty`] };
  return { value: doc.toJS({ maxAliasCount: 100 }) };
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** "500ms", "1s", "1h30m" → milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
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

// A bare number is refused rather than guessed: "interval: 1" could mean 1 ms or 1 s.
const HINT = 'a duration with a unit, like "500ms", "1s", "5m" or "8h"';

/** A duration string in a config file, parsed to milliseconds. */
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

export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends Buffer
    ? T
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** Freezes a plain data tree in place: a shared config or state snapshot must not be edited behind its owner's back. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
