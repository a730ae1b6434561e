import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EtcdCluster, startEtcd } from '@pullover/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../packages/controller/src/cli/main.js';
import { Election } from '../packages/controller/src/ha/election.js';
import { EtcdClient } from '../packages/controller/src/ha/etcd-client.js';
import { leaseTiming } from '../packages/controller/src/ha/timing.js';
import { EtcdStore } from '../packages/controller/src/state/etcd-store.js';
import { FileStore } from '../packages/controller/src/state/file-store.js';
import type { ControllerState, HistoryEntry } from '../packages/controller/src/state/schema.js';
import { clusterDoc, configDoc, tempDir, writeSecrets } from '../packages/controller/test/helpers.js';

// pullover-controller migrate-state into a real etcd (one member, 127.0.76.1): the state a
// controller kept in its state dir, readable by EtcdStore as it was, written once.
const TIMING = leaseTiming(5000, 1000, 500);

function entry(i: number): HistoryEntry {
  return {
    version: 1 + (i % 12),
    at: '2024-01-01T00:00:00.000Z',
    cluster: 'a',
    event: 'set-master',
    previous_master: 'mysql1',
    master: 'mysql2',
    detail: `moved a to mysql2 (${i})`,
  };
}

const published = (name: string) => ({ master: 'mysql2', address: '200.200.200.2', port: 3306, hostnames: [`${name}.example`] });

/**
 * Three clusters, 250 history entries (more than one etcd transaction may carry), a paused cluster
 * with a switchover record; written without failovers_filed, as a controller before that counter did.
 */
const FILE_STATE = {
  format: 2,
  version: 12,
  issued_at: '2024-01-01T00:00:00.000Z',
  clusters: { a: published('a'), b: published('b'), c: published('c') },
  history: Array.from({ length: 250 }, (_, i) => entry(i)),
  failover: {
    a: {
      blocked_until: null,
      paused: { until: '2030-01-01T00:00:00.000Z', reason: 'maintenance' },
      fenced: ['mysql1'],
      running: null,
      switchover: null,
      switchovers: [{
        cluster: 'a',
        old_master: 'mysql1',
        new_master: 'mysql2',
        outcome: 'done',
        checks: ['mysql2 caught up'],
        steps: [],
        write_blocked_ms: 120,
        version: 11,
        started_at: '2024-01-01T00:00:00.000Z',
        finished_at: '2024-01-01T00:00:01.000Z',
      }],
    },
  },
  failovers: [],
};

describe('pullover-controller migrate-state', () => {
  let etcd: EtcdCluster;
  const clients: EtcdClient[] = [];
  const client = () => {
    const c = new EtcdClient({ endpoints: etcd.endpoints, retryTimeoutMs: TIMING.retryTimeoutMs });
    clients.push(c);
    return c;
  };

  /** A state dir holding `state`, and a config whose store.etcd names our etcd under `prefix`; cluster c is gone from it. */
  async function setup(prefix: string, state: unknown = FILE_STATE) {
    const dir = await tempDir();
    await writeSecrets(dir);
    const from = join(dir, 'state');
    await mkdir(from);
    await writeFile(join(from, 'state.json'), JSON.stringify(state));
    const doc = { ...configDoc(dir, [clusterDoc('a', 'a.example'), clusterDoc('b', 'b.example')]) };
    const config = join(dir, 'controller.yaml');
    await writeFile(config, JSON.stringify({ ...doc, store: { etcd: { endpoints: etcd.endpoints, prefix } } }));
    return { from, config, argv: ['migrate-state', '--from', from, '--config', config] };
  }
  async function run(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out, err: err.join('\n') };
  }
  /** Every key under `prefix`, with its revisions. */
  const keys = async (prefix: string) => (await client().range(prefix, { prefix: true })).kvs;

  beforeAll(async () => {
    etcd = await startEtcd({ id: 76, members: 1 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await etcd?.destroy();
  });

  it('writes the file state as EtcdStore reads it, at term 0 by migrate-state, and a leader goes on from it', async () => {
    const { from, config, argv } = await setup('/m1/');
    const result = await run(argv);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toEqual([
      `wrote version 12 (3 clusters, 250 history entries) from ${from} to etcd ${etcd.endpoints.join(', ')} under /m1/`,
      `the first leader will reconcile it with ${config}: cluster c is no longer in ${config}: c.example leave the mapping, version 13`,
    ]);
    const expected = await new FileStore(from).load();
    expect(expected?.failovers_filed).toEqual({});
    const store = new EtcdStore(client(), { prefix: '/m1/', name: 'reader' });
    expect(await store.load()).toEqual(expected);
    const [stateKv] = await keys('/m1/state');
    expect(JSON.parse(stateKv!.value)).toMatchObject({ format: 1, term: 0, writer: 'migrate-state' });

    // The first leader's write goes on from the migrated lists: appended, none rewritten.
    const election = new Election(client(), { prefix: '/m1/', name: 'c1', timing: TIMING });
    try {
      await election.round();
      await election.round();
      const leader = new EtcdStore(client(), { prefix: '/m1/', name: 'c1' });
      leader.lead(election.leadership);
      const loaded = (await leader.load()) as ControllerState;
      const before = (await keys('/m1/log/history/')).map((kv) => kv.modRevision);
      const next = { ...loaded, version: 13, history: [...loaded.history, entry(250)] };
      await leader.save(next);
      const after = await keys('/m1/log/history/');
      expect(after.slice(0, 250).map((kv) => kv.modRevision)).toEqual(before);
      expect(after).toHaveLength(251);
      expect(await store.load()).toEqual(next);
    } finally {
      await election.stop();
    }
  });

  it('is refused once etcd holds a state, naming it, and leaves etcd as it was', async () => {
    const { argv } = await setup('/m2/');
    expect((await run(argv)).code).toBe(0);
    const before = await keys('/m2/');
    const again = await run(argv);
    expect(again.code).toBe(1);
    expect(again.out).toEqual([]);
    expect(again.err).toBe(
      `pullover-controller: etcd ${etcd.endpoints[0]}: /m2/state already holds a state `
      + '(version 12, term 0, written by migrate-state): nothing written; migrate-state is for the first start only',
    );
    expect(await keys('/m2/')).toEqual(before);
  });

  it('is refused over a state a leader wrote, naming its term and writer', async () => {
    const election = new Election(client(), { prefix: '/m3/', name: 'c1', timing: TIMING });
    try {
      await election.round();
      await election.round();
      const leadership = election.leadership!;
      const leader = new EtcdStore(client(), { prefix: '/m3/', name: 'c1' });
      leader.lead(leadership);
      await leader.load();
      const { from } = await setup('/m3/');
      await leader.save({ ...(await new FileStore(from).load())!, version: 3, history: [] });
      const before = await keys('/m3/');
      const refused = await run((await setup('/m3/')).argv);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`/m3/state already holds a state (version 3, term ${leadership.term}, written by c1): nothing written`);
      expect(await keys('/m3/')).toEqual(before);
    } finally {
      await election.stop();
    }
  });
});
