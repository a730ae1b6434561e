import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPath, issueLines, missingKeyMessage } from '../src/index.js';

const Doc = z.strictObject({
  wait: z.number(),
  clusters: z.array(z.strictObject({ name: z.string(), port: z.number().int() })),
});

function issues(value: unknown) {
  const result = Doc.safeParse(value, { error: missingKeyMessage });
  if (result.success) throw new Error('expected a failure');
  return result.error.issues;
}

describe('issueLines', () => {
  const bad = { clusters: [{ name: 'a', port: 1.5, prot: 3 }], extra: true };

  it('names the source, the key path and the problem, one line each, an unknown key on its own line', () => {
    expect(issueLines(issues(bad), 'agent.yaml').sort()).toEqual([
      'agent.yaml: clusters[0].port: Invalid input: expected int, received number',
      'agent.yaml: clusters[0].prot: unknown key',
      'agent.yaml: extra: unknown key',
      'agent.yaml: wait: missing',
    ]);
  });

  it('places the key path as the caller says, and names unknown keys in its words', () => {
    const at = (path: readonly PropertyKey[]) => (path.length === 0 ? 'body' : `body.${formatPath(path)}`);
    expect(issueLines(issues(bad), at, 'unknown field')).toContain('body.extra: unknown field');
    expect(issueLines(issues(bad), formatPath)).toContain('wait: missing');
  });

  it('says where a top-level problem is', () => {
    expect(issueLines(issues(null), 'state.json')).toEqual([
      'state.json: (top level): Invalid input: expected object, received null',
    ]);
  });
});
