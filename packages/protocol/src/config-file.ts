// The pieces both daemons' YAML config loaders share: every problem becomes one line naming the
// file, the key path and what is wrong (issues.ts); each package wraps those lines in its own ConfigError.
import YAML from 'yaml';

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
