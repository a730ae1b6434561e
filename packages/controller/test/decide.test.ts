import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../src/config/load.js';
import { openRecord } from '../src/failover/record.js';
import { type Action, afterFailure, decide, type Memory, type Snapshot } from '../src/monitor/decide.js';
import type { ServerObservation } from '../src/topology/observation.js';
import { expectInOrder, observation } from './helpers.js';

// One look at the cluster myservice (mysql1 the master at 200.200.200.1, mysql2 the candidate,
// mysql3) and what the monitor does next. Each case states how the look differs from a healthy
// cluster whose master just stopped answering three pings, every replica losing it too.

const NOW = new Date('2025-03-04T05:06:07.000Z');
const FAILING_SINCE = new Date(NOW.getTime() - 5000);
const SERVERS: ServerConfig[] = [
  { name: 'mysql1', address: '200.200.200.1', candidate: false, no_master: false },
  { name: 'mysql2', address: '200.200.200.2', candidate: true, no_master: false },
  { name: 'mysql3', address: '200.200.200.3', candidate: false, no_master: false },
];
const LOST = { io: 'connecting' as const, lastIoErrno: 2003, lastIoError: 'Can\'t connect' };
const REPLICAS = [observation('mysql2', { replica: LOST }), observation('mysql3', { replica: LOST })];

const JOURNAL = {
  record: openRecord({
    cluster: 'myservice',
    trigger: 'auto',
    oldMaster: 'mysql1',
    target: 'mysql2',
    reason: 'mysql1 is dead',
    plan: 'promote mysql2',
    lastAnswer: FAILING_SINCE,
    firstFailure: FAILING_SINCE,
    confirmed: FAILING_SINCE,
  }),
  target: 'mysql2',
  donor: null,
  force: false,
};

interface Case {
  readonly name: string;
  /** Failed pings in a row (default 3; 0: the master answers). */
  readonly failures?: number;
  readonly replicas?: readonly ServerObservation[];
  readonly masterReadOnly?: boolean;
  readonly snapshot?: Partial<Omit<Snapshot, 'detector' | 'observed'>>;
  readonly memory?: Partial<Memory>;
  readonly kind: Action['kind'];
  readonly says: readonly string[];
  /** For a promotion: the target. */
  readonly target?: string;
}

function snapshotOf(c: Case): Snapshot {
  const failures = c.failures ?? 3;
  const replicas = c.replicas ?? REPLICAS;
  const refused = { kind: 'refused' as const, message: 'mysql1: connect ECONNREFUSED' };
  return {
    cluster: 'myservice',
    detector: {
      master: { name: 'mysql1', address: '200.200.200.1', port: 3306 },
      cluster: 'myservice',
      pings: failures === 0
        ? { consecutiveFailures: 0 }
        : { consecutiveFailures: failures, lastFailure: refused, failingSince: FAILING_SINCE },
      masterReadOnly: c.masterReadOnly ?? false,
      replicas,
      silentReceivers: new Map(),
      agents: [],
      agentsExpected: 0,
      agentVetoShare: 0.5,
      elapsedMs: 5000,
      agentGraceMs: 2000,
      failuresNeeded: 3,
    },
    observed: [observation('mysql1', { replica: null, readOnly: c.masterReadOnly ?? false }), ...replicas],
    servers: SERVERS,
    survivors: ['mysql2', 'mysql3'],
    journal: undefined,
    auto: true,
    restartRecovery: 'manual',
    blockedUntil: undefined,
    paused: undefined,
    ...c.snapshot,
  };
}

const LATER = new Date(NOW.getTime() + 60_000);

const CASES: Case[] = [
  { name: 'the master answers', failures: 0, kind: 'wait', says: ['mysql1 answers'] },
  { name: 'two failed pings of three', failures: 2, kind: 'wait', says: ['mysql1 failed 2 of 3 pings'] },
  { name: 'dead: the candidate is promoted', kind: 'promote', target: 'mysql2', says: ['mysql1 is dead'] },
  {
    name: 'dead, and the candidate\'s last failover failed: the other replica first',
    memory: { failedTargets: ['mysql2'] },
    kind: 'promote',
    target: 'mysql3',
    says: ['mysql1 is dead'],
  },
  { name: 'dead, automatic failover off', snapshot: { auto: false }, kind: 'blocked', says: ['automatic failover is off', 'run pullover-controller failover --cluster myservice'] },
  { name: 'dead, paused', snapshot: { paused: { until: LATER, reason: 'upgrade' } }, kind: 'blocked', says: ['paused until 2025-03-04T05:07:07.000Z (upgrade)'] },
  { name: 'dead, blocked after the last failover', snapshot: { blockedUntil: LATER }, kind: 'blocked', says: ['blocked until', 'pullover-controller ack'] },
  { name: 'dead, the last failover failed a moment ago', memory: { retryAfter: LATER }, kind: 'blocked', says: ['the last failover failed, the next attempt is at'] },
  {
    name: 'dead, and every replica is no_master or unreachable',
    snapshot: { servers: SERVERS.map((s) => (s.name === 'mysql1' ? s : { ...s, no_master: true })) },
    kind: 'impossible',
    says: ['myservice: mysql1 is dead and cannot be replaced'],
  },
  { name: 'a replica still hears the master: no failover', replicas: [observation('mysql2'), REPLICAS[1]!], kind: 'wait', says: ['mysql2 still replicate(s) from it'] },
  { name: 'restarted read_only, restart_recovery manual', failures: 0, masterReadOnly: true, kind: 'wait', says: ['set-writable'] },
  { name: 'restarted read_only, restart_recovery auto', failures: 0, masterReadOnly: true, snapshot: { restartRecovery: 'auto' }, kind: 'make-writable', says: ['restart_recovery: mysql1 answers read_only'] },
  {
    name: 'restarted read_only, restart_recovery auto, paused',
    failures: 0,
    masterReadOnly: true,
    snapshot: { restartRecovery: 'auto', paused: { until: LATER, reason: null } },
    kind: 'blocked',
    says: ['mysql1 is read_only; automatic failover is paused until', 'not made writable automatically'],
  },
  {
    name: 'journaled, its old master dead again: resumed',
    snapshot: { journal: JOURNAL },
    replicas: [observation('mysql2', { replica: { io: 'no' } }), observation('mysql3', { replica: { io: 'no' } })],
    kind: 'resume',
    says: [`resuming the failover ${JOURNAL.record.id} (mysql1 → mysql2) that a previous controller left unfinished`],
  },
  {
    name: 'journaled, its target already promoted: resumed whatever the old master does',
    failures: 0,
    snapshot: { journal: JOURNAL },
    replicas: [observation('mysql2', { replica: null }), REPLICAS[1]!],
    kind: 'resume',
    says: ['mysql2 was already promoted'],
  },
  {
    name: 'journaled, the old master answers before anything was promoted: cancelled',
    failures: 0,
    snapshot: { journal: JOURNAL },
    kind: 'cancel',
    says: ['mysql1 answered again before mysql2 was promoted: failover cancelled, mysql1 stays the master'],
  },
  {
    name: 'journaled, failing pings but a replica still connected to it: waits',
    snapshot: { journal: JOURNAL },
    replicas: [observation('mysql2'), REPLICAS[1]!],
    kind: 'wait',
    says: [`the unfinished failover ${JOURNAL.record.id} (mysql1 → mysql2) waits`],
  },
];

describe('decide', () => {
  it.each(CASES)('$name: $kind', (c) => {
    const memory: Memory = { retryAfter: undefined, failedTargets: [], ...c.memory };
    const { action } = decide(snapshotOf(c), memory, NOW);
    expect(action.kind).toBe(c.kind);
    expectInOrder(action.sentence, c.says);
    if (c.target) expect(action.kind === 'promote' && action.plan.target).toBe(c.target);
  });
});

describe('afterFailure', () => {
  it('tries the failed target last, and waits 30 s, doubled per failed target, at most 10 min', () => {
    const none: Memory = { retryAfter: undefined, failedTargets: [] };
    const once = afterFailure(none, 'mysql2', NOW);
    expect(once).toEqual({ failedTargets: ['mysql2'], retryAfter: new Date(NOW.getTime() + 30_000) });
    const twice = afterFailure(once, 'mysql3', NOW);
    expect(twice).toEqual({ failedTargets: ['mysql2', 'mysql3'], retryAfter: new Date(NOW.getTime() + 60_000) });
    // The same target failing again moves to the end of the list.
    expect(afterFailure(twice, 'mysql2', NOW).failedTargets).toEqual(['mysql3', 'mysql2']);
    const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].reduce((m, t) => afterFailure(m, t, NOW), none);
    expect(many.retryAfter).toEqual(new Date(NOW.getTime() + 600_000));
  });
});
