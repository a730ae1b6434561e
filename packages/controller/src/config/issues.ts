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

/** One line per problem, `source: key.path: what is wrong`; an unknown key gets its own line. */
export function issueLines(source: string, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${source}: ${formatPath([...issue.path, key])}: unknown key`);
    }
    return [`${source}: ${formatPath(issue.path)}: ${issue.message}`];
  });
}
