import type { FailoverStep } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { NotLeader } from '../src/errors.js';
import { StepRunner } from '../src/failover/step-runner.js';
import type { LogLine } from '../src/log-line.js';

const at = new Date('2026-11-27T21:00:00.000Z');

function runner(lines: LogLine[], earlier: FailoverStep[] = []): StepRunner<FailoverStep> {
  return new StepRunner<FailoverStep>('failover c1', (line) => lines.push(line), () => at, earlier);
}

describe('StepRunner', () => {
  it('appends each step after the journaled ones, dated, timed and told on one line', () => {
    const lines: LogLine[] = [];
    const detected: FailoverStep = { name: 'detected', at: at.toISOString(), ms: 8, detail: 'first failed ping' };
    const steps = runner(lines, [detected]);
    steps.done('fenced', 'mysql1 made read_only');
    steps.done('repointed', 'mysql3 NOT repointed', { failed: true });
    expect(steps.steps.map((s) => [s.name, s.at, s.failed ?? false])).toEqual([
      ['detected', at.toISOString(), false],
      ['fenced', at.toISOString(), false],
      ['repointed', at.toISOString(), true],
    ]);
    expect(steps.steps.every((s) => s.ms >= 0)).toBe(true);
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn']);
    expect(lines[0]?.message).toMatch(/^failover c1: fenced in \d+ ms: mysql1 made read_only$/);
    expect(lines[1]?.message).toMatch(/^failover c1: repointed FAILED in \d+ ms: mysql3 NOT repointed$/);
  });

  it('marks a step failed after the fact, keeping what it said', () => {
    const lines: LogLine[] = [];
    const steps = runner(lines);
    steps.done('repointed', 'mysql3 repointed');
    steps.failLater('repointed', 'mysql3 has its IO thread no');
    expect(steps.steps[0]).toMatchObject({ failed: true, detail: 'mysql3 repointed; then: mysql3 has its IO thread no' });
    expect(lines.at(-1)).toEqual({ level: 'warn', message: 'failover c1: repointed FAILED: mysql3 has its IO thread no' });
  });

  it('hands a failure to the caller with its sentence, but a lost leadership is not a failure', async () => {
    const steps = runner([]);
    const failed = await steps.run(
      () => Promise.reject(new Error('mysql2 did not apply 0-1-45 within 60 s')),
      (why) => Promise.resolve(`failed: ${why}`),
    );
    expect(failed).toBe('failed: mysql2 did not apply 0-1-45 within 60 s');
    const deposed = steps.run(
      () => Promise.reject(new NotLeader('the lease ended')),
      () => Promise.resolve('should not be called'),
    );
    await expect(deposed).rejects.toBeInstanceOf(NotLeader);
  });
});
