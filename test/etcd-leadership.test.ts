import { type EtcdCluster, startEtcd, waitFor } from '@pullover/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Election } from '../packages/controller/src/ha/election.js';
import { EtcdClient } from '../packages/controller/src/ha/etcd-client.js';
import type { Leadership } from '../packages/controller/src/ha/leadership.js';
import { leaseTiming, leaseTimingProblem } from '../packages/controller/src/ha/timing.js';

// Leadership on a real three-member etcd (127.0.70.1..3). TTL 5 s, keepalive 0.5 s, retry budget 1 s:
// 5 s − 0.5 s margin ≥ 0.5 s + 2 × 1 s; a paused etcd leader is replaced within about 2 s.
const TIMING = leaseTiming(5000, 1000, 500);

describe('leadership on etcd', () => {
  let etcd: EtcdCluster;
  const elections: Election[] = [];
  const clients: EtcdClient[] = [];
  const logs: string[] = [];
  let prefix = '';

  const client = (endpoints = etcd.endpoints) => {
    const c = new EtcdClient({ endpoints, retryTimeoutMs: TIMING.retryTimeoutMs });
    clients.push(c);
    return c;
  };
  const candidate = (name: string, endpoints?: string[]) => {
    const election = new Election(client(endpoints), { prefix, name, timing: TIMING, log: (s) => logs.push(s) });
    elections.push(election);
    return election;
  };
  const elected = (election: Election) =>
    new Promise<Leadership>((resolve) => {
      const off = election.onElected((l) => {
        off();
        resolve(l);
      });
    });

  beforeAll(async () => {
    expect(leaseTimingProblem(TIMING)).toBeUndefined();
    etcd = await startEtcd({ id: 70 });
  });
  afterEach(async () => {
    await Promise.all(elections.splice(0).map((e) => e.stop()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const m of etcd.members) {
      if (m.isPaused) m.resume();
      if (!m.isRunning) await m.start();
    }
    await etcd.waitHealthy();
    prefix = `/t${Date.now()}/`;
  });
  afterAll(async () => {
    await etcd?.destroy();
  });

  it('elects one leader among two contenders, and a higher term when it steps down', async () => {
    prefix = '/first/';
    const a = candidate('a');
    const b = candidate('b');
    const won: string[] = [];
    a.onElected(() => won.push('a'));
    b.onElected(() => won.push('b'));
    await Promise.all([a.round(), b.round()]);
    await Promise.all([a.round(), b.round()]);
    expect(won).toHaveLength(1);
    const [winner, loser] = won[0] === 'a' ? [a, b] : [b, a];
    const first = winner.leadership as Leadership;
    expect(loser.leader).toEqual({ name: won[0], term: first.term, info: '' });
    expect(first.timeLeftMs()).toBeGreaterThan(1500);

    const next = elected(loser);
    await first.resign();
    await loser.round();
    const second = await next;
    expect(second.term).toBeGreaterThan(first.term);
    expect(first.lost).toBe('resigned');
  });

  it('a lease revoked by hand ends the leadership within the deadline', async () => {
    const a = candidate('a');
    const won = elected(a);
    a.start();
    const leadership = await won;
    const lost = new Promise<number>((resolve) => leadership.onLost(() => resolve(performance.now())));
    const revokedAt = performance.now();
    await client().revoke(leadership.lease.id);
    // Noticed by the next keepalive (TTL 0), at the latest after keepalive + retry budget.
    expect((await lost) - revokedAt).toBeLessThan(TIMING.keepaliveMs + TIMING.retryTimeoutMs + 200);
    expect(leadership.lost).toMatch(/no longer has lease/);
    expect(leadership.timeLeftMs()).toBe(0);
  });

  it('the leader key deleted by hand ends the leadership at the next round', async () => {
    const a = candidate('a');
    const won = elected(a);
    a.start();
    const leadership = await won;
    const c = client();
    await c.txn([], [{ request_delete_range: { key: Buffer.from(a.leaderKey).toString('base64') } }]);
    await waitFor(() => leadership.lost, 2000, 'leadership lost');
    expect(leadership.lost).toMatch(/leader key .* is gone/);
    // And it campaigns again, with a new lease, for a higher term.
    const again = await elected(a);
    expect(again.term).toBeGreaterThan(leadership.term);
  });

  it('a paused member costs one attempt: the client and the leadership move to another endpoint', async () => {
    const a = candidate('a');
    const won = elected(a);
    a.start();
    const leadership = await won;
    const c = client();
    await c.range('/x');
    const first = etcd.members.find((m) => m.clientUrl === c.endpoint);
    first?.pause();
    // When the paused member was etcd's own leader, every read waits for a new one (about 1–2 s).
    await c.range('/x', { budgetMs: 5000 });
    expect(c.endpoint).not.toBe(first?.clientUrl);
    // The leader keeps its lease across the pause of the member it talked to (if it was etcd's leader too,
    // a new one is elected in about a second, well inside the TTL).
    await new Promise((r) => setTimeout(r, TIMING.ttlMs + 500));
    expect(leadership.lost).toBeUndefined();
  });

  it('quorum lost: leadership lost by the lease deadline, regained after the members restart', async () => {
    const a = candidate('a', [etcd.member('etcd1').clientUrl]);
    const won = elected(a);
    a.start();
    const leadership = await won;
    const lost = new Promise<number>((resolve) => leadership.onLost(() => resolve(performance.now())));
    const stoppedAt = performance.now();
    await Promise.all([etcd.member('etcd2').kill(), etcd.member('etcd3').kill()]);
    const lostAt = await lost;
    // Never later than the lease allows: the last acknowledged keepalive + TTL − margin.
    expect(lostAt - stoppedAt).toBeLessThan(TIMING.ttlMs - TIMING.marginMs + 100);
    expect(leadership.lost).toMatch(/no keepalive .* acknowledged in time|refused/);
    const c = client([etcd.member('etcd1').clientUrl]);
    await expect(c.txn([], [{ request_put: { key: 'eA==', value: 'eA==' } }])).rejects.toThrow(/did not answer/);
    expect(a.leadership).toBeUndefined();

    const regained = elected(a);
    await Promise.all([etcd.member('etcd2').start(), etcd.member('etcd3').start()]);
    const next = await regained;
    expect(next.term).toBeGreaterThan(leadership.term);
    expect(logs.join('\n')).toMatch(/controller a: etcd unreachable/);
  });
});
