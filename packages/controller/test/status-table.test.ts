import type { Status } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../src/index.js';
import { report } from './helpers.js';

const status: Status = {
  version: 7,
  issued_at: '2025-01-02T03:04:05.000Z',
  clusters: [
    {
      name: 'myservice',
      master: 'mysql2',
      hostnames: ['mysql-master.myservice.com'],
      servers: [
        { name: 'mysql1', address: '200.200.200.1', role: 'replica', candidate: false, no_master: false },
        { name: 'mysql2', address: '200.200.200.2', role: 'master', candidate: true, no_master: false },
      ],
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
    },
  ],
  agents_current: 1,
  agents_total: 2,
};

describe('formatStatus', () => {
  it('prints masters, then every agent, then the count', () => {
    expect(formatStatus(status)).toBe(
      [
        'CLUSTER    MASTER                  HOSTNAMES',
        'myservice  mysql2 (200.200.200.2)  mysql-master.myservice.com',
        '',
        'mapping version 7, issued 2025-01-02T03:04:05.000Z',
        '',
        'AGENT  APPLIED  STATE    LAST REPORT  REACHES MASTER  ERROR',
        'app1   7        current  3s ago       yes',
        'app2   6        BEHIND   2m5s ago     not checked     EROFS: read-only file system',
        '',
        '1/2 agents on version 7',
      ].join('\n'),
    );
  });

  it('says so when no agent has reported', () => {
    const text = formatStatus({ ...status, agents: [], agents_current: 0, agents_total: 0 });
    expect(text).toContain('no agent has reported since the controller started');
    expect(text.endsWith('0/0 agents on version 7')).toBe(true);
  });
});
