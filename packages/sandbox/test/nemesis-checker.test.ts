import { describe, expect, it } from 'vitest';
import { check, parseGtidState } from '../src/nemesis/checker.js';
import type { FinalServer, RunHistory } from '../src/nemesis/history.js';
import type { ReadOnlySample } from '../src/sampler.js';

// Hand-made histories: mysql1 (server_id 1) the first master, mysql2 (2) the candidate, mysql3 (3).
// The master is lost at t=1000.

const SERVERS = [1, 2, 3].map((n) => ({ name: `mysql${n}`, serverId: n, address: `127.0.30.${n}` }));

function server(name: string, over: Partial<FinalServer> = {}): FinalServer {
  return { name, reachable: true, readOnly: true, replication: null, gtidBinlogState: '', rowIds: [], ...over };
}

function replicaOf(master: string, rowIds: number[], gtid: string): Partial<FinalServer> {
  const masterHost = SERVERS.find((s) => s.name === master)!.address;
  return { replication: { masterHost, io: 'Yes', sql: 'Yes', ioError: '', sqlError: '' }, rowIds, gtidBinlogState: gtid, caughtUp: true };
}

const ok = (id: number, serverId: number, start: number, end = start + 5) => ({
  id, start, end, outcome: 'ok' as const, address: `127.0.30.${serverId}`, serverId, writer: 'w1',
});

const sample = (at: number, m1: string, m2: string, m3 = 'ro') =>
  ({ at, states: { mysql1: m1, mysql2: m2, mysql3: m3 } }) as ReadOnlySample;

/** A clean failover from mysql1 to mysql2: writes 1–2 on mysql1, 3–4 on mysql2, mysql1 fenced. */
function failover(): RunHistory {
  return {
    servers: SERVERS,
    initialMaster: 'mysql1',
    masterFaultAt: 1000,
    writes: [ok(1, 1, 100), ok(2, 1, 900), { ...ok(5, 1, 990, 3000), outcome: 'indeterminate' }, ok(3, 2, 3500), ok(4, 2, 3600)],
    samples: [sample(0, 'rw', 'ro'), sample(1050, 'unknown', 'ro'), sample(3400, 'unknown', 'rw'), sample(9000, 'ro', 'rw')],
    final: {
      servers: [
        server('mysql1', { rowIds: [1, 2, 5], gtidBinlogState: '0-1-3' }),
        server('mysql2', { readOnly: false, rowIds: [1, 2, 3, 4], gtidBinlogState: '0-1-2,0-2-4' }),
        server('mysql3', replicaOf('mysql2', [1, 2, 3], '0-1-2,0-2-3')),
      ],
      hosts: [{ agent: 'app1', address: '127.0.30.2' }, { agent: 'app2', address: '127.0.30.2' }],
      failovers: [{ id: 'f1', old_master: 'mysql1', new_master: 'mysql2', outcome: 'done', steps: [] }],
      controllerMaster: 'mysql2',
      fenced: ['mysql1'],
      health: 'mysql2 answers',
    },
  };
}

function finalServer(h: RunHistory, name: string): FinalServer {
  return h.final.servers.find((s) => s.name === name)!;
}

describe('the nemesis checker', () => {
  it('passes a clean failover, with the fenced former master as a note and the time to one writable master', () => {
    const verdict = check(failover());
    expect(verdict.violations).toEqual([]);
    expect(verdict).toMatchObject({ finalMaster: 'mysql2', failedOver: true, toOneWritableMs: 2400 });
    expect(verdict.notes).toEqual(['mysql1: fenced former master, read-only, not rejoined']);
  });

  it('a master back read_only with restart_recovery: manual awaits an operator (a note); with auto it is a violation', () => {
    const h = failover();
    h.final.failovers = [];
    h.final.servers = [
      server('mysql1', { rowIds: [1, 2, 5] }),
      server('mysql2', replicaOf('mysql1', [1, 2, 5], '0-1-3')),
      server('mysql3', replicaOf('mysql1', [1, 2, 5], '0-1-3')),
    ];
    h.final.healthState = 'master-read-only';
    h.final.health = 'mysql1 answers but is read_only: no server takes writes';
    h.restartRecovery = 'manual';
    const manual = check(h);
    expect(manual.violations.map((v) => v.invariant)).not.toContain('topology');
    const note = /^no writable server: the master came back read_only and restart_recovery is manual; the controller/;
    expect(manual.notes).toContainEqual(expect.stringMatching(note));
    h.restartRecovery = 'auto';
    expect(check(h).violations[0]?.evidence).toMatch(/^0 writable servers at the end; the controller says: mysql1 /);
  });

  it('finds an acknowledged write missing on the final master; an indeterminate one may be missing', () => {
    const h = failover();
    finalServer(h, 'mysql2').rowIds = [1, 3, 4];
    finalServer(h, 'mysql3').rowIds = [1, 3];
    const [v, ...rest] = check(h).violations;
    expect(rest).toEqual([]);
    expect(v?.invariant).toBe('acknowledged-write-lost');
    expect(v?.evidence).toBe('1 acknowledged write(s) are not on the final master mysql2: 2 (acknowledged by mysql1 at -95 ms from the fault)');
  });

  it('finds the old master acknowledging a write sent after the new one acknowledged its first', () => {
    const h = failover();
    h.writes.push({ ...ok(6, 1, 3550, 3560), writer: 'w2' });
    finalServer(h, 'mysql2').rowIds.push(6);
    const violations = check(h).violations;
    expect(violations.map((v) => v.invariant)).toEqual(['two-servers-acknowledged']);
    expect(violations[0]?.evidence).toBe(
      'mysql1 acknowledged 1 write(s) sent after mysql2 had acknowledged write 3 at +2505 ms from the fault; the first: write 6 by w2, sent +2550 ms from the fault, acknowledged +2560 ms from the fault',
    );
  });

  it('does not count a write sent before the new master took one and acknowledged after (a thawed master that had committed)', () => {
    const h = failover();
    h.writes.push(ok(7, 1, 950, 8000));
    finalServer(h, 'mysql2').rowIds.push(7);
    expect(check(h).violations).toEqual([]);
  });

  it('finds two servers answering read_only=OFF at once, and says for how long', () => {
    const h = failover();
    h.samples.splice(3, 0, sample(5000, 'ro', 'rw'), sample(6000, 'rw', 'rw'), sample(6100, 'rw', 'rw', 'unknown'), sample(8000, 'ro', 'rw'));
    const violations = check(h).violations;
    expect(violations.map((v) => v.invariant)).toEqual(['two-writable']);
    expect(violations[0]?.evidence).toBe('mysql1 and mysql2 both answered read_only=OFF at +5000 ms from the fault for about 2000 ms (2 sample(s))');
  });

  it('allows a server that comes back writable one monitor interval to be fenced, with a note; not longer', () => {
    const h = failover();
    h.samples.splice(3, 0, sample(5000, 'rw', 'rw'), sample(5600, 'ro', 'rw'));
    expect(check(h).violations).toEqual([]);
    expect(check(h).notes[0]).toBe('mysql1 and mysql2 both answered read_only=OFF at +4000 ms from the fault for about 600 ms (1 sample(s)): mysql1 had just come back');
    h.samples.splice(4, 1, sample(6200, 'ro', 'rw'));
    expect(check(h).violations.map((v) => v.invariant)).toEqual(['two-writable']);
  });

  it('finds no master, or two, at the end', () => {
    const none = failover();
    finalServer(none, 'mysql2').readOnly = true;
    expect(check(none).violations.map((v) => v.evidence)).toContain('0 writable servers at the end; the controller says: mysql2 answers');
    expect(check(none).finalMaster).toBeUndefined();
    const two = failover();
    finalServer(two, 'mysql1').readOnly = false;
    expect(check(two).violations.map((v) => v.evidence)).toContain('2 writable servers at the end: mysql1, mysql2; the controller says: mysql2 answers');
  });

  it('finds a replica that replicates from the wrong server, with a stopped thread, an error or errant transactions', () => {
    const h = failover();
    const mysql3 = finalServer(h, 'mysql3');
    mysql3.replication = { masterHost: '127.0.30.1', io: 'Connecting', sql: 'No', ioError: 'error reconnecting', sqlError: '' };
    mysql3.gtidBinlogState = '0-1-3,0-2-3';
    mysql3.rowIds = [1, 2, 3, 5];
    expect(check(h).violations.filter((v) => v.invariant === 'topology').map((v) => v.evidence)).toEqual([
      'mysql3 replicates from 127.0.30.1, not from mysql2 (127.0.30.2); IO thread Connecting; SQL thread No; IO error: error reconnecting',
      'mysql3 holds transactions mysql2 lacks: 0-1-3 (master has 2)',
      'mysql3 has 1 row(s) mysql2 lacks: 5',
    ]);
  });

  it('holds a former master that the controller does not call fenced to the rules of a replica', () => {
    const h = failover();
    h.final.fenced = [];
    expect(check(h).violations.map((v) => v.evidence)).toEqual(['mysql1 replicates from nobody']);
  });

  it('finds a hosts file on the old master, and a history that does not tell the failover', () => {
    const h = failover();
    h.final.hosts[1] = { agent: 'app2', address: '127.0.30.1' };
    h.final.failovers = [];
    h.final.controllerMaster = 'mysql1';
    expect(check(h).violations).toEqual([
      { invariant: 'hosts', evidence: 'app2\'s hosts file maps the hostname to 127.0.30.1, not to the master mysql2 (127.0.30.2)' },
      { invariant: 'history', evidence: 'mysql2 is the master, but no failover is recorded' },
      { invariant: 'history', evidence: 'the controller names mysql1, the writable server is mysql2' },
    ]);
  });

  it('passes a run without failover (a replica killed and back), and notes a failed failover', () => {
    const h = failover();
    h.masterFaultAt = undefined;
    h.writes = [ok(1, 1, 100), ok(2, 1, 5000)];
    h.samples = [sample(0, 'rw', 'ro')];
    h.final.servers = [
      server('mysql1', { readOnly: false, rowIds: [1, 2], gtidBinlogState: '0-1-2' }),
      server('mysql2', replicaOf('mysql1', [1, 2], '0-1-2')),
      server('mysql3', replicaOf('mysql1', [1], '0-1-1')),
    ];
    h.final.hosts = [{ agent: 'app1', address: '127.0.30.1' }];
    h.final.failovers = [{ id: 'f1', old_master: 'mysql1', new_master: null, outcome: 'failed', error: 'the master came back', steps: [] }];
    h.final.controllerMaster = 'mysql1';
    h.final.fenced = [];
    const verdict = check(h);
    expect(verdict.violations).toEqual([]);
    expect(verdict).toMatchObject({ finalMaster: 'mysql1', failedOver: false, toOneWritableMs: undefined });
    expect(verdict.notes).toEqual(['failover f1 from mysql1 failed: the master came back']);
  });

  it('reads gtid_binlog_state per domain and originating server', () => {
    expect([...parseGtidState('0-1-100, 0-2-5,1-1-7')]).toEqual([['0-1', 100], ['0-2', 5], ['1-1', 7]]);
    expect(parseGtidState('').size).toBe(0);
  });
});
