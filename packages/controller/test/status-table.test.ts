import type { Status } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../src/index.js';
import { report } from './helpers.js';

type ServerStatus = Status['clusters'][number]['servers'][number];
type Observed = NonNullable<ServerStatus['observed']>;

/** A reachable, read-only server replicating from nobody, with `over` on top. */
function observed(over: Partial<Observed> = {}): Observed {
  return {
    reachable: true,
    read_only: true,
    replicating_from: null,
    io_running: null,
    sql_running: null,
    lag_s: null,
    gtid: '0-2-100',
    at: '2025-01-02T03:04:04.000Z',
    ...over,
  };
}

const status: Status = {
  version: 7,
  issued_at: '2025-01-02T03:04:05.000Z',
  clusters: [
    {
      name: 'myservice',
      master: 'mysql2',
      hostnames: ['mysql-master.myservice.com'],
      servers: [
        {
          name: 'mysql1',
          address: '200.200.200.1',
          role: 'replica',
          candidate: false,
          no_master: false,
          fenced: false,
          observed: observed({ replicating_from: '200.200.200.2', io_running: 'yes', sql_running: true, lag_s: 0 }),
        },
        {
          name: 'mysql2',
          address: '200.200.200.2',
          role: 'master',
          candidate: true,
          no_master: false,
          fenced: false,
          observed: observed({ read_only: false }),
        },
        {
          name: 'mysql3',
          address: '200.200.200.3',
          role: 'replica',
          candidate: false,
          no_master: true,
          fenced: true,
          observed: observed({
            replicating_from: '200.200.200.9',
            io_running: 'connecting',
            sql_running: false,
            gtid: '0-1-90',
            error: 'error 2003 connecting to 200.200.200.9',
          }),
        },
      ],
      health: {
        state: 'master-alive',
        since: '2025-01-02T03:00:00.000Z',
        sentence: 'mysql2 answers',
      },
      failover: { auto: true, blocked_until: null, paused_until: null, pause_reason: null, running: false },
    },
  ],
  agents: [
    {
      name: 'app1',
      applied_version: 7,
      current: true,
      block_hash: 'a'.repeat(64),
      hosts_file: '/etc/hosts',
      last_report_at: '2025-01-02T03:04:05.000Z',
      last_report_age_s: 3.2,
      masters: report(7).masters.map((m) => ({ ...m, address: '200.200.200.2' })),
      remote_address: '10.0.0.11',
      bound: true,
    },
    {
      name: 'app2',
      applied_version: 6,
      current: false,
      block_hash: 'b'.repeat(64),
      hosts_file: '/etc/hosts',
      last_report_at: '2025-01-02T03:02:05.000Z',
      last_report_age_s: 125,
      masters: report(6).masters.map((m) => ({ ...m, reachable: false, detail: 'connect ETIMEDOUT' })),
      error: 'EROFS: read-only file system',
      remote_address: '10.0.0.12',
      bound: false,
    },
  ],
  agents_current: 1,
  agents_total: 2,
};

/** `status` with its one cluster changed by `edit`. */
function withCluster(edit: (cluster: Status['clusters'][number]) => Partial<Status['clusters'][number]>): Status {
  const [cluster] = status.clusters;
  if (!cluster) throw new Error('the fixture has a cluster');
  return { ...status, clusters: [{ ...cluster, ...edit(cluster) }] };
}

describe('formatStatus', () => {
  it('prints masters, each cluster\'s health, failover and servers, then every agent, then the count', () => {
    expect(formatStatus(status)).toBe(
      [
        'CLUSTER    MASTER                  HOSTNAMES',
        'myservice  mysql2 (200.200.200.2)  mysql-master.myservice.com',
        '',
        'myservice',
        '  health: master-alive since 2025-01-02T03:00:00.000Z: mysql2 answers',
        '  automatic failover: armed',
        '  SERVER  ROLE                        REACHABLE  READ_ONLY  REPLICATES FROM  IO          SQL  LAG  GTID     ERROR',
        '  mysql1  replica                     yes        ON         mysql2           yes         yes  0s   0-2-100',
        '  mysql2  master, candidate           yes        OFF        -                -           -    -    0-2-100',
        '  mysql3  replica, FENCED, no_master  yes        ON         200.200.200.9    CONNECTING  NO   -    0-1-90   error 2003 connecting to 200.200.200.9',
        '',
        'mapping version 7, issued 2025-01-02T03:04:05.000Z',
        '',
        'AGENT           APPLIED  STATE    LAST REPORT  REACHES MASTER  ERROR',
        'app1            7        current  3s ago       yes',
        'app2 (unbound)  6        BEHIND   2m5s ago     not checked     EROFS: read-only file system',
        '',
        '1/2 agents on version 7',
        '1 agent(s) unbound: they report with a token line that names no agent, so they never veto a failover; '
        + 'give each its own "NAME TOKEN" line (pullover-controller convert-tokens --help)',
      ].join('\n'),
    );
  });

  it('says when a server is unreachable or not observed yet, and when the master was not checked', () => {
    const text = formatStatus(
      withCluster((c) => ({
        health: null,
        servers: [
          { ...(c.servers[0] as ServerStatus), observed: { ...observed(), reachable: false, error: 'connect ETIMEDOUT' } },
          { ...(c.servers[1] as ServerStatus), observed: null },
        ],
      })),
    );
    expect(text).toContain('  health: not checked yet (the controller has not looked at the master)\n');
    expect(text).toMatch(/\n {2}mysql1 +replica +NO +connect ETIMEDOUT\n/);
    expect(text).toMatch(/\n {2}mysql2 +master, candidate +not observed yet\n/);
  });

  it.each([
    [
      'blocked after a failover: until when, and how to lift it',
      { auto: true, blocked_until: '2025-01-02T11:04:05.000Z', paused_until: null, pause_reason: null, running: false },
      'BLOCKED until 2025-01-02T11:04:05.000Z after the last failover; check the cluster, then run pullover-controller ack --cluster myservice',
    ],
    [
      'running',
      { auto: true, blocked_until: null, paused_until: null, pause_reason: null, running: true },
      'a failover is RUNNING now; pullover-controller history shows its steps',
    ],
    [
      'switched off in the config',
      { auto: false, blocked_until: null, paused_until: null, pause_reason: null, running: false },
      'OFF (failover.auto: false); replace a dead master with pullover-controller failover --cluster myservice',
    ],
    [
      'paused by an operator',
      { auto: true, blocked_until: null, paused_until: '2025-01-02T04:00:00.000Z', pause_reason: 'upgrade', running: false },
      'PAUSED until 2025-01-02T04:00:00.000Z (upgrade); pullover-controller resume --cluster myservice re-arms it',
    ],
  ])('says whether automatic failover is %s', (_name, failover, sentence) => {
    expect(formatStatus(withCluster(() => ({ failover })))).toContain(`\n  automatic failover: ${sentence}\n`);
  });

  it('prints the health sentence the detector wrote', () => {
    const health = {
      state: 'master-dead',
      since: '2025-01-02T03:04:00.000Z',
      sentence: 'mysql2 is dead: 3 pings failed (connection refused: ECONNREFUSED); mysql1 lost it too (IO error 2003)',
    };
    expect(formatStatus(withCluster(() => ({ health })))).toContain(
      '\n  health: master-dead since 2025-01-02T03:04:00.000Z: mysql2 is dead: 3 pings failed (connection refused: ECONNREFUSED); mysql1 lost it too (IO error 2003)\n',
    );
  });

  it('names what the last failover left undone', () => {
    const failover = {
      auto: true,
      blocked_until: null,
      paused_until: null,
      pause_reason: null,
      running: false,
      failed_steps: ['repointed: mysql3 NOT repointed (connect ECONNREFUSED)'],
    };
    expect(formatStatus(withCluster(() => ({ failover })))).toContain(
      '\n  the last failover left undone: repointed: mysql3 NOT repointed (connect ECONNREFUSED)\n',
    );
  });

  it('says so when no agent has reported', () => {
    const text = formatStatus({ ...status, agents: [], agents_current: 0, agents_total: 0 });
    expect(text).toContain('no agent has reported since the controller started');
    expect(text.endsWith('0/0 agents on version 7')).toBe(true);
  });
});
