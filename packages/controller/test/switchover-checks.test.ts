import { describe, expect, it } from 'vitest';
import { observation, unreachableObservation } from './helpers.js';
import type { ReplicaStatus } from '../src/mysql/dialect.js';
import { checkSwitchover, type SwitchoverCheckInput } from '../src/switchover/checks.js';
import type { ServerObservation } from '../src/topology/observation.js';

const NOW = new Date('2026-11-24T05:00:00Z');
const MASTER = { name: 'mysql1', address: '127.0.99.1', port: 3306 };

const NET = { net: '127.0.99', at: NOW };

function replica(name: string, change: Partial<ReplicaStatus> = {}, gtid = '0-1-100'): ServerObservation {
  return observation(name, { ...NET, gtid, replica: change });
}

const master = observation('mysql1', { ...NET, readOnly: false, replica: null });

function input(change: Partial<SwitchoverCheckInput> = {}): SwitchoverCheckInput {
  return {
    master: MASTER,
    servers: [
      { name: 'mysql1', candidate: false, no_master: false },
      { name: 'mysql2', candidate: true, no_master: false },
      { name: 'mysql3', candidate: false, no_master: false },
    ],
    observations: [master, replica('mysql2'), replica('mysql3')],
    fenced: [],
    maxLagS: 5,
    blockedUntil: undefined,
    now: NOW,
    agents: { live: 2, current: 2, behind: [] },
    ...change,
  };
}

describe('checkSwitchover', () => {
  it('picks the candidate and repoints the old master first, then the others', () => {
    const r = checkSwitchover(input());
    expect(r).toMatchObject({ ok: true, target: 'mysql2', repoint: ['mysql1', 'mysql3'] });
    expect(r.checks).toEqual([
      'mysql1 is the master: writable at 0-1-100',
      'mysql2 replicates from mysql1, 0 s behind',
      'mysql3 replicates from mysql1, 0 s behind',
      '2 of 2 live agent(s) on the current version',
      'target: mysql2 (candidate)',
    ]);
  });

  it('without a candidate, takes the most advanced replica', () => {
    const r = checkSwitchover(input({
      servers: input().servers.map((s) => ({ ...s, candidate: false })),
      observations: [master, replica('mysql2', {}, '0-1-99'), replica('mysql3')],
    }));
    expect(r).toMatchObject({ ok: true, target: 'mysql3' });
  });

  it('leaves fenced former masters out', () => {
    const r = checkSwitchover(input({ fenced: ['mysql3'], observations: [master, replica('mysql2'), unreachableObservation('mysql3', undefined, NET)] }));
    expect(r).toMatchObject({ ok: true, target: 'mysql2', repoint: ['mysql1'] });
    expect(r.checks).toContain('mysql3 is fenced (a former master): left out; rejoin it first to include it');
  });

  it.each<[string, Partial<SwitchoverCheckInput>, string]>([
    ['a target marked no_master', { to: 'mysql3', servers: [...input().servers.slice(0, 2), { name: 'mysql3', candidate: false, no_master: true }] }, 'mysql3 is marked no_master'],
    ['the master as target', { to: 'mysql1' }, 'mysql1 is already the master'],
    ['an unknown target', { to: 'mysql9' }, 'mysql9 is not a server of this cluster'],
    ['a replica over the lag limit', { observations: [master, replica('mysql2'), replica('mysql3', { secondsBehind: 9 })] }, 'mysql3 is 9 s behind (limit 5 s; --max-lag)'],
    ['a replica with an unknown lag', { observations: [master, replica('mysql2'), replica('mysql3', { secondsBehind: null })] }, 'mysql3 is ? s behind (limit 5 s; --max-lag)'],
    ['a stopped SQL thread', { observations: [master, replica('mysql2', { sqlRunning: false }), replica('mysql3')] }, 'mysql2 has its SQL thread stopped'],
    ['an IO thread reconnecting', { observations: [master, replica('mysql2', { io: 'connecting', lastIoErrno: 2003, lastIoError: 'cannot connect' }), replica('mysql3')] }, 'mysql2 has its IO thread connecting (error 2003: cannot connect)'],
    ['a replica of another server', { observations: [master, replica('mysql2', { masterHost: '127.0.99.3' }), replica('mysql3')] }, 'mysql2 replicates from 127.0.99.3:3306, not from mysql1'],
    ['a replica not using GTID', { observations: [master, replica('mysql2', { usesGtid: false }), replica('mysql3')] }, 'mysql2 does not replicate by GTID'],
    ['a dead master', { observations: [{ ...master, reachable: false, failure: { kind: 'refused', message: 'ECONNREFUSED' } }, replica('mysql2'), replica('mysql3')] }, 'mysql1 (the master) does not answer: ECONNREFUSED; use failover for a dead master'],
    ['a read-only master', { observations: [{ ...master, readOnly: true }, replica('mysql2'), replica('mysql3')] }, 'mysql1 (the master) is read_only: nothing to switch over from'],
    ['a failover block', { blockedUntil: new Date('2026-11-24T08:00:00Z') }, 'automatic failover is blocked until 2026-11-24T08:00:00.000Z after the last failover: check the cluster, then pullover-controller ack first'],
  ])('refuses %s', (_, change, problem) => {
    const r = checkSwitchover(input(change));
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.problems).toContain(problem);
  });

  it('notes agents that are behind without refusing', () => {
    const r = checkSwitchover(input({ agents: { live: 3, current: 2, behind: ['app3'] } }));
    expect(r.ok).toBe(true);
    expect(r.checks).toContain('2 of 3 live agent(s) on the current version (behind: app3)');
  });
});
