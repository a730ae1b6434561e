import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ControllerState,
  FileStore,
  MappingPublisher,
  mappingOf,
  parseConfig,
  reconcile,
  StateError,
  StateKeeper,
} from '../src/index.js';
import type { FailoverRecord } from '@pullover/protocol';
import { clusterMetrics } from '../src/http/cluster-metrics.js';
import type { RunningSwitchover } from '../src/state/schema.js';
import { clusterDoc, configDoc, tempDir } from './helpers.js';

const NOW = new Date('2025-01-02T03:04:05.000Z');

function config(clusters: unknown[] = [clusterDoc()]) {
  return parseConfig(configDoc('/srv', clusters), '/etc/pullover/controller.yaml');
}

function first(clusters: unknown[] = [clusterDoc()]): ControllerState {
  return reconcile(null, config(clusters), NOW, 'state.json').state;
}

/** A state.json as the controller before failover (state format 1) wrote it, after two set-masters. */
const FORMAT_1 = `{
  "format": 1,
  "version": 3,
  "issued_at": "2025-01-02T04:00:00.000Z",
  "clusters": {
    "myservice": {
      "master": "mysql1",
      "address": "200.200.200.1",
      "port": 3306,
      "hostnames": ["mysql-master.myservice.com"]
    }
  },
  "history": [
    {
      "version": 1,
      "at": "2025-01-02T03:04:05.000Z",
      "cluster": "myservice",
      "event": "initial",
      "previous_master": null,
      "master": "mysql1",
      "detail": "first start myservice: mysql-master.myservice.com now → mysql1 (200.200.200.1)"
    },
    {
      "version": 2,
      "at": "2025-01-02T03:30:00.000Z",
      "cluster": "myservice",
      "event": "set-master",
      "previous_master": "mysql1",
      "master": "mysql2",
      "detail": "set-master myservice: mysql-master.myservice.com now → mysql2 (200.200.200.2)",
      "reason": "maintenance of mysql1"
    },
    {
      "version": 3,
      "at": "2025-01-02T04:00:00.000Z",
      "cluster": "myservice",
      "event": "set-master",
      "previous_master": "mysql2",
      "master": "mysql1",
      "detail": "set-master myservice: mysql-master.myservice.com now → mysql1 (200.200.200.1)"
    }
  ]
}
`;

describe('FileStore', () => {
  it('round-trips the state in a 0600 file and leaves no temp file', async () => {
    const dir = join(await tempDir(), 'state');
    const store = new FileStore(dir);
    expect(await store.load()).toBeNull();
    const state = first();
    await store.save(state);
    expect(await store.load()).toEqual(state);
    expect((await stat(store.location)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('refuses a file that is not a valid state and leaves it untouched', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir);
    const bad = JSON.stringify({ ...first(), version: 0 });
    await writeFile(store.location, bad);
    await expect(store.load()).rejects.toThrow(StateError);
    await expect(store.load()).rejects.toThrow(/state\.json is not a valid pullover state \(version: /);
    expect(await readFile(store.location, 'utf8')).toBe(bad);
  });

  it('refuses a state written by a newer format', async () => {
    const store = new FileStore(await tempDir());
    await writeFile(store.location, JSON.stringify({ ...first(), format: 3 }));
    await expect(store.load()).rejects.toThrow(
      /written by a newer pullover-controller \(state format 3, this one reads 2\)/,
    );
  });

  it('starts format 2 with no failover blocked, fenced or recorded', () => {
    expect(first()).toMatchObject({ format: 2, failover: {}, failovers: [] });
  });

  it('reads a format-1 state.json written by the previous version as format 2, keeping master and version', async () => {
    const store = new FileStore(await tempDir());
    await writeFile(store.location, FORMAT_1);
    const state = await store.load();
    expect(state).toEqual({ ...JSON.parse(FORMAT_1), format: 2, failover: {}, failovers: [], failovers_filed: {} });
    // The next save writes format 2: the previous version then refuses the file instead of misreading it.
    await store.save(state as ControllerState);
    expect(JSON.parse(await readFile(store.location, 'utf8'))).toMatchObject({ format: 2, version: 3 });
    expect(reconcile(state, config(), NOW, store.location)).toMatchObject({ changed: false });
  });

  it('reads a cluster\'s failover state written before the switchover journal: none under way, none recorded', async () => {
    const store = new FileStore(await tempDir());
    const failover = { blocked_until: null, paused: null, fenced: ['mysql2'], running: null };
    await writeFile(store.location, JSON.stringify({ ...first(), failover: { myservice: failover } }));
    expect((await store.load())?.failover.myservice).toEqual({ ...failover, switchover: null, switchovers: [] });
  });

  it('names each bad key by its path, an unknown one too', async () => {
    const store = new FileStore(await tempDir());
    const bad = { ...first(), clusters: { myservice: { ...first().clusters.myservice, port: 0 } }, extra: 1 };
    await writeFile(store.location, JSON.stringify(bad));
    await expect(store.load()).rejects.toThrow(
      /not a valid pullover state \(clusters\.myservice\.port: .*; extra: unknown key\)/,
    );
  });

  it('reports a save that cannot happen, keeping the previous file', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir);
    await store.save(first());
    const blocked = new FileStore(join(store.location, 'sub'));
    await expect(blocked.save(first())).rejects.toMatchObject({
      code: 'PULLOVER_STATE_WRITE',
      message: expect.stringMatching(/^cannot create .*state\.json\/sub: ENOTDIR: .*; the previous state is intact$/),
    });
    expect(await store.load()).toEqual(first());
  });
});

describe('reconcile', () => {
  it('starts every cluster at its config master, version 1', () => {
    const { state, changed, log } = reconcile(null, config(), NOW, 'state.json');
    expect(changed).toBe(true);
    expect(state.version).toBe(1);
    expect(state.clusters).toEqual({
      myservice: {
        master: 'mysql1',
        address: '200.200.200.1',
        port: 3306,
        hostnames: ['mysql-master.myservice.com'],
      },
    });
    expect(log.map((l) => l.message)).toEqual([
      'first start myservice: mysql-master.myservice.com now → mysql1 (200.200.200.1), version 1',
    ]);
  });

  it('honours master: at the first start only', () => {
    const cluster = { ...clusterDoc(), master: 'mysql2' };
    const initial = reconcile(null, config([cluster]), NOW, 'state.json').state;
    expect(initial.clusters.myservice?.master).toBe('mysql2');
    const moved = {
      ...initial,
      clusters: { myservice: { ...initial.clusters.myservice, master: 'mysql1', address: '200.200.200.1' } },
    } as ControllerState;
    const again = reconcile(moved, config([cluster]), NOW, 'state.json');
    expect(again.changed).toBe(false);
    expect(again.state.clusters.myservice?.master).toBe('mysql1');
    expect(again.log[0]?.message).toMatch(/only applies at the very first start/);
  });

  it('keeps the state as it is when nothing would change', () => {
    const saved = first();
    const again = reconcile(saved, config(), NOW, 'state.json');
    expect(again).toMatchObject({ changed: false });
    expect(again.state).toBe(saved);
  });

  it('adds a new cluster and drops a removed one, one version up', () => {
    const saved = first();
    const added = reconcile(
      saved,
      config([clusterDoc(), clusterDoc('other', 'db.other.com', '10.0.0')]),
      NOW,
      'state.json',
    );
    expect(added.state.version).toBe(2);
    expect(added.state.clusters.other?.master).toBe('mysql1');
    expect(added.state.history.at(-1)).toMatchObject({
      event: 'cluster-added',
      cluster: 'other',
      version: 2,
    });
    const removed = reconcile(
      added.state,
      config([clusterDoc('other', 'db.other.com', '10.0.0')]),
      NOW,
      'state.json',
    );
    expect(removed.state.version).toBe(3);
    expect(Object.keys(removed.state.clusters)).toEqual(['other']);
    expect(removed.log[0]?.message).toMatch(
      /^cluster myservice is no longer in .*: mysql-master.myservice.com leave the mapping, version 3$/,
    );
  });

  it('bumps the version when the master address or the hostnames change in the config', () => {
    const saved = first();
    const changed = clusterDoc();
    changed.servers[0] = { name: 'mysql1', address: '200.200.200.11' };
    const result = reconcile(saved, config([changed]), NOW, 'state.json');
    expect(result.state.version).toBe(2);
    expect(result.state.clusters.myservice?.address).toBe('200.200.200.11');
    expect(result.log[0]?.message).toContain('mysql1\'s address 200.200.200.1 → 200.200.200.11');
  });

  it('refuses to guess when the recorded master left the config', () => {
    const saved = first();
    const cluster = clusterDoc();
    cluster.servers = cluster.servers.slice(1);
    expect(() => reconcile(saved, config([cluster]), NOW, '/var/lib/pullover/state.json')).toThrow(
      new RegExp(
        String.raw`/var/lib/pullover/state\.json records mysql1 as the master of cluster myservice, `
        + String.raw`but .* no longer lists it .* Add mysql1 back to the servers`,
      ),
    );
  });
});

describe('switchover journal', () => {
  const journal: RunningSwitchover = {
    started_at: NOW.toISOString(),
    old_master: 'mysql1',
    target: 'mysql2',
    repoint: ['mysql1', 'mysql3'],
    checks: [],
    reason: 'kernel update',
    reached: 'started',
    old_master_gtid: null,
    write_blocked_at: null,
    write_blocked_ms: null,
    version: null,
    steps: [],
  };

  async function keeper(): Promise<{ keeper: StateKeeper; store: FileStore }> {
    const store = new FileStore(await tempDir());
    const state = first();
    await store.save(state);
    const publisher = new MappingPublisher(mappingOf(state));
    return { keeper: new StateKeeper(config(), store, publisher, state, () => NOW), store };
  }

  it('is saved durably at each step; publishing moves the master and marks it published in one write', async () => {
    const { keeper: k, store } = await keeper();
    await k.saveSwitchover('myservice', journal);
    const blocked = { ...journal, reached: 'write-blocked' as const, old_master_gtid: '0-1-42', write_blocked_at: NOW.toISOString() };
    await k.saveSwitchover('myservice', blocked);
    expect((await store.load())?.failover.myservice?.switchover).toEqual(blocked);

    expect(await k.publishSwitchover('myservice', { ...blocked, write_blocked_ms: 120 })).toBe(2);
    const saved = await store.load();
    expect(saved?.clusters.myservice?.master).toBe('mysql2');
    expect(saved?.failover.myservice?.switchover).toMatchObject({ reached: 'published', version: 2, write_blocked_ms: 120 });
    expect(saved?.history.at(-1)).toMatchObject({ event: 'switchover', previous_master: 'mysql1', master: 'mysql2', reason: 'kernel update' });
  });

  it('ends when filed: the record kept, a target that may come back writable fenced', async () => {
    const { keeper: k, store } = await keeper();
    await k.saveSwitchover('myservice', journal);
    const record = {
      cluster: 'myservice', old_master: 'mysql1', new_master: 'mysql2', outcome: 'rolled-back' as const, checks: [], steps: [],
      write_blocked_ms: 80, version: null, error: 'mysql2 did not reach 0-1-42', started_at: NOW.toISOString(), finished_at: NOW.toISOString(),
    };
    await k.finishSwitchover('myservice', record, ['mysql2']);
    const saved = (await store.load())?.failover.myservice;
    expect(saved).toMatchObject({ switchover: null, switchovers: [record], fenced: ['mysql2'] });
    expect(k.fencedServers('myservice')).toEqual(['mysql2']);
    expect((await store.load())?.version).toBe(1);
  });
});

describe('failovers filed', () => {
  function record(n: number, outcome: 'done' | 'failed'): FailoverRecord {
    const at = new Date(NOW.getTime() + n * 1000).toISOString();
    return {
      id: `f${n}`, cluster: 'myservice', trigger: 'auto', old_master: 'mysql1', new_master: 'mysql2',
      started_at: at, finished_at: at, outcome, version: null, reason: 'mysql1 is dead', steps: [],
    };
  }

  it('are counted for good past the records kept, and the counter exported from the count', async () => {
    const store = new FileStore(await tempDir());
    const state = first();
    const k = new StateKeeper(config(), store, new MappingPublisher(mappingOf(state)), state, () => NOW);
    for (let n = 1; n <= 250; n++) await k.finishFailover('myservice', record(n, n % 10 === 0 ? 'failed' : 'done'));

    const saved = await store.load();
    expect(saved?.failovers).toHaveLength(200);
    expect(saved?.failovers_filed).toEqual({ myservice: { done: 225, failed: 25, cancelled: 0 } });
    const text = clusterMetrics(k, undefined, NOW).join('\n');
    expect(text).toContain('pullover_failovers_total{cluster="myservice",outcome="done"} 225');
    expect(text).toContain('pullover_failovers_total{cluster="myservice",outcome="failed"} 25');
    expect(text).toContain('pullover_failovers_total{cluster="myservice",outcome="cancelled"} 0');
  });

  it('start from the records kept in a state.json written before the count', async () => {
    const store = new FileStore(await tempDir());
    const older: Record<string, unknown> = { ...first(), failovers: [record(1, 'done'), record(2, 'failed'), record(3, 'done')] };
    delete older.failovers_filed;
    await writeFile(store.location, JSON.stringify(older));
    expect((await store.load())?.failovers_filed).toEqual({ myservice: { done: 2, failed: 1, cancelled: 0 } });
  });
});
