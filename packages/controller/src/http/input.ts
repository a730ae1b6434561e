import { formatPath, issueLines, missingKeyMessage } from '@pullover/protocol';
import type { z } from 'zod';
import { BadRequest } from '../errors.js';

/** Validates one part of a request; a failure is a 400 naming each bad or unknown field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: 'params' | 'query' | 'body',
): z.output<S> {
  const result = schema.safeParse(value, { error: missingKeyMessage });
  if (result.success) return result.data;
  const at = (path: readonly PropertyKey[]) => (path.length === 0 ? part : `${part}.${formatPath(path)}`);
  throw new BadRequest(issueLines(result.error.issues, at, 'unknown field').join('; '));
}
