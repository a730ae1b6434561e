import { describe, expect, it } from 'vitest';
import { type GateInput, gate } from '../src/failover/gate.js';
import { openRecord } from '../src/failover/record.js';

const NOW = new Date('2026-11-24T05:00:00Z');
const BASE: GateInput = {
  cluster: 'myservice',
  master: 'mysql1',
  auto: true,
  blockedUntil: undefined,
  paused: undefined,
  retryAfter: undefined,
  now: NOW,
};
const later = (ms: number) => new Date(NOW.getTime() + ms);

describe('gate: may an automatic failover start?', () => {
  it.each<[string, Partial<GateInput>, RegExp | null]>([
    ['nothing in the way', {}, null],
    ['a block that ended', { blockedUntil: later(-1) }, null],
    ['a retry time that passed', { retryAfter: later(-1) }, null],
    ['auto off', { auto: false }, /automatic failover is off \(failover\.auto: false\); run pullover-controller failover --cluster myservice$/],
    ['the post-failover block', { blockedUntil: later(60_000) }, /blocked until 2026-11-24T05:01:00\.000Z after the last one; .*pullover-controller ack --cluster myservice/],
    ['the last failover failed', { retryAfter: later(30_000) }, /the last failover failed, the next attempt is at 2026-11-24T05:00:30\.000Z/],
    ['auto off wins over a block', { auto: false, blockedUntil: later(60_000) }, /automatic failover is off/],
    ['a pause that ended', { paused: { until: later(-1), reason: null } }, null],
    [
      'an operator\'s pause',
      { paused: { until: later(1_800_000), reason: 'mysql1 upgrade' } },
      /paused until 2026-11-24T05:30:00\.000Z \(mysql1 upgrade\); pullover-controller resume --cluster myservice/,
    ],
    [
      'a pause wins over a block',
      { paused: { until: later(60_000), reason: null }, blockedUntil: later(60_000) },
      /is paused until/,
    ],
  ])('%s', (_, change, expected) => {
    const result = gate({ ...BASE, ...change });
    if (expected === null) expect(result).toEqual({ go: true });
    else expect(result.go === false && result.sentence).toMatch(expected);
  });
});

describe('openRecord', () => {
  it('starts with detected (since the last answer) and confirmed (since the first failure)', () => {
    const record = openRecord({
      cluster: 'myservice',
      trigger: 'auto',
      oldMaster: 'mysql1',
      target: 'mysql2',
      reason: 'mysql1 is dead',
      plan: 'promote mysql2',
      lastAnswer: new Date('2026-11-24T05:00:00.000Z'),
      firstFailure: new Date('2026-11-24T05:00:00.700Z'),
      confirmed: new Date('2026-11-24T05:00:00.950Z'),
    });
    expect(record).toMatchObject({ outcome: 'running', started_at: '2026-11-24T05:00:00.700Z', new_master: 'mysql2', version: null });
    expect(record.id).toMatch(/^20261124T050000-[0-9a-f]{6}$/);
    expect(record.steps).toEqual([
      { name: 'detected', at: '2026-11-24T05:00:00.700Z', ms: 700, detail: 'first failed ping of mysql1; the last answer came 700 ms before' },
      { name: 'confirmed', at: '2026-11-24T05:00:00.950Z', ms: 250, detail: 'mysql1 is dead; promote mysql2' },
    ]);
  });
});
