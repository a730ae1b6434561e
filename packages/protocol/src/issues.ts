// The one way a zod failure becomes words, for config files, stored state and messages received:
// one line per problem, naming where it is (the file, the key path) and what is wrong.
import type { z } from 'zod';

/** ['clusters', 0, 'servers', 1, 'address'] → "clusters[0].servers[1].address". */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

/** Missing keys read "missing" rather than zod's "expected string, received undefined". */
export const missingKeyMessage: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'missing' : undefined;

/** Where a problem is, from its key path: "body.force" for a request's body, say. */
export type Locate = (path: readonly PropertyKey[]) => string;

/**
 * One line per problem, `where: what is wrong`; each unknown key gets its own line. `where` is a
 * source name ("agent.yaml" → "agent.yaml: wait: …") or a function that places the key path.
 */
export function issueLines(
  issues: readonly z.core.$ZodIssue[],
  where: string | Locate,
  unknown = 'unknown key',
): string[] {
  const locate: Locate = typeof where === 'string' ? (path) => `${where}: ${formatPath(path)}` : where;
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${locate([...issue.path, key])}: ${unknown}`)
      : [`${locate(issue.path)}: ${issue.message}`],
  );
}
