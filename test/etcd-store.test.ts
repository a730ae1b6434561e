import { type EtcdCluster, startEtcd, waitFor } from '@pullover/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotLeader } from '../packages/controller/src/errors.js';
import { Election } from '../packages/controller/src/ha/election.js';
import { EtcdClient } from '../packages/controller/src/ha/etcd-client.js';
import type { Leadership } from '../packages/controller/src/ha/leadership.js';
import { leaseTiming } from '../packages/controller/src/ha/timing.js';
import { EtcdStore } from '../packages/controller/src/state/etcd-store.js';
import type { ControllerState, HistoryEntry } from '../packages/controller/src/state/schema.js';
import type { CommittedState } from '../packages/controller/src/state/store.js';

// The controller state in a real three-member etcd (127.0.71.1..3).
const TIMING = leaseTiming(5000, 1000, 500);

function entry(version: number, detail = `moved to mysql${version}`): HistoryEntry {
  return {
    version,
    at: '2024-01-01T00:00:00.000Z',
    cluster: 'db',
    event: 'set-master',
    previous_master: 'mysql1',
    master: 'mysql2',
    detail,
  };
}

function stateAt(version: number, history: HistoryEntry[] = [entry(version)]): ControllerState {
  return {
    format: 2,
    version,
    issued_at: '2024-01-01T00:00:00.000Z',
    clusters: { db: { master: 'mysql2', address: '127.0.0.2', port: 3306, hostnames: ['db.example'] } },
    history,
    failover: {},
    failovers: [],
    failovers_filed: {},
  };
}

describe('the state in etcd', () => {
  let etcd: EtcdCluster;
  const clients: EtcdClient[] = [];
  const elections: Election[] = [];
  let prefix = '';

  const client = () => {
    const c = new EtcdClient({ endpoints: etcd.endpoints, retryTimeoutMs: TIMING.retryTimeoutMs });
    clients.push(c);
    return c;
  };
  /** A controller: its election and store, leading once `lead` resolves. */
  const controller = (name: string) => {
    const c = client();
    const election = new Election(c, { prefix, name, timing: TIMING });
    elections.push(election);
    const store = new EtcdStore(c, { prefix, name, pollMs: 300 });
    return { election, store };
  };
  const lead = async ({ election, store }: ReturnType<typeof controller>): Promise<Leadership> => {
    await election.round();
    await election.round();
    const leadership = election.leadership;
    if (!leadership) throw new Error('did not win');
    store.lead(leadership);
    await store.load();
    return leadership;
  };

  beforeAll(async () => {
    etcd = await startEtcd({ id: 71 });
  });
  afterEach(async () => {
    await Promise.all(elections.splice(0).map((e) => e.stop()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await etcd?.destroy();
  });

  it('the leader writes, a follower follows every committed state in order', async () => {
    prefix = '/follow/';
    const a = controller('a');
    const leadership = await lead(a);
    const b = controller('b');
    expect(await b.store.load()).toBeNull();
    const seen: CommittedState[] = [];
    const stop = b.store.follow((c) => seen.push(c));
    try {
      await a.store.save(stateAt(1));
      // follow() starts with a read of the latest state: a state superseded before that read is
      // passed over (the latest holds everything), so the second write waits for the first to arrive.
      await waitFor(() => seen.at(-1)?.state.version === 1, 3000, 'version 1 followed');
      await a.store.save(stateAt(2, [entry(1), entry(2)]));
      await waitFor(() => seen.at(-1)?.state.version === 2, 3000, 'version 2 followed');
      expect(seen.map((c) => c.state.version)).toEqual([1, 2]);
      expect(seen[1]).toMatchObject({ term: leadership.term, state: stateAt(2, [entry(1), entry(2)]) });
      expect(await b.store.load()).toEqual(stateAt(2, [entry(1), entry(2)]));
    } finally {
      stop();
    }
  });

  it('a follower reads only the entries appended since the state it followed last', async () => {
    prefix = '/append/';
    const a = controller('a');
    await lead(a);
    const history = Array.from({ length: 50 }, (_, i) => entry(i + 1));
    await a.store.save(stateAt(50, history));
    const c = client();
    // Every log entry the follower's reads bring back.
    const fetched: string[] = [];
    const txn = c.txn.bind(c);
    c.txn = async (...args) => {
      const result = await txn(...args);
      fetched.push(...result.ranges.flat().map((kv) => kv.key).filter((key) => key.includes('/log/')));
      return result;
    };
    const seen: CommittedState[] = [];
    const stop = new EtcdStore(c, { prefix, name: 'b', pollMs: 300 }).follow((committed) => seen.push(committed));
    try {
      await waitFor(() => seen.length === 1, 3000, 'the state read');
      expect(fetched).toHaveLength(50);
      fetched.length = 0;
      // The oldest two dropped, three appended: three entries read, the rest kept from the last read.
      const next = [...history.slice(2), entry(51), entry(52), entry(53)];
      await a.store.save(stateAt(53, next));
      await waitFor(() => seen.at(-1)?.state.version === 53, 3000, 'version 53 followed');
      expect(seen.at(-1)?.state).toEqual(stateAt(53, next));
      expect(fetched).toEqual([51, 52, 53].map((i) => `${prefix}log/history/${String(i - 1).padStart(12, '0')}`));
      fetched.length = 0;
      // A list changed otherwise is written anew after the last index: read whole.
      const rewritten = [entry(60, 'rewritten')];
      await a.store.save(stateAt(60, rewritten));
      await waitFor(() => seen.at(-1)?.state.version === 60, 3000, 'version 60 followed');
      expect(seen.at(-1)?.state).toEqual(stateAt(60, rewritten));
      expect(fetched).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it('a deposed leader\'s write is refused: NotLeader, and nothing written', async () => {
    prefix = '/deposed/';
    const a = controller('a');
    const first = await lead(a);
    await a.store.save(stateAt(1));
    // a's lease is revoked behind its back; b wins a higher term and writes.
    await client().revoke(first.lease.id);
    const b = controller('b');
    const second = await lead(b);
    expect(second.term).toBeGreaterThan(first.term);
    await b.store.save(stateAt(2));
    await expect(a.store.save(stateAt(7))).rejects.toThrow(NotLeader);
    expect((await b.store.load())?.version).toBe(2);
  });

  it('a write based on a stale revision is refused and ends the leadership', async () => {
    prefix = '/stale/';
    const a = controller('a');
    const leadership = await lead(a);
    await a.store.save(stateAt(1));
    // A second writer under the same leadership (a bug, or a by-hand write): the first one's base is stale.
    const other = new EtcdStore(client(), { prefix, name: 'a' });
    other.lead(leadership);
    await other.load();
    await other.save(stateAt(2));
    const refused = a.store.save(stateAt(3));
    await expect(refused).rejects.toThrow(NotLeader);
    await expect(refused).rejects.toThrow(/state was written by someone else \(a, term/);
    expect(leadership.lost).toMatch(/state was written by someone else/);
    expect((await other.load())?.version).toBe(2);
  });

  it('a state past etcd\'s request limit is written in chunks; then each write carries only what changed', async () => {
    prefix = '/big/';
    const a = controller('a');
    await lead(a);
    // 1000 entries of ~2 KiB: about 2 MiB, more than one request may carry.
    const history = Array.from({ length: 1000 }, (_, i) => entry(i + 1, `${i} ${'x'.repeat(2000)}`));
    await a.store.save(stateAt(1000, history));
    const b = controller('b');
    expect(await b.store.load()).toEqual(stateAt(1000, history));
    // At the limit: the oldest dropped, one appended.
    const next = [...history.slice(1), entry(1001)];
    await a.store.save(stateAt(1001, next));
    expect(await b.store.load()).toEqual(stateAt(1001, next));
    const keys = await client().range(`${prefix}log/history/`, { prefix: true, keysOnly: true });
    expect(keys.kvs).toHaveLength(1000);
    expect(keys.kvs[0]?.key).toBe(`${prefix}log/history/000000000001`);
  });
});
