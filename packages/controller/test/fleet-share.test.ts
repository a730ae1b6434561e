import { describe, expect, it } from 'vitest';
import { type AgentRecord, AgentRegistry } from '../src/agents/registry.js';
import { decode, type Operation } from '../src/ha/codec.js';
import type { EtcdClient } from '../src/ha/etcd-client.js';
import {
  askOf,
  batches,
  changeOf,
  chunkOf,
  chunkOfKey,
  decodeChunk,
  encodeChunk,
  FLEET_CHUNKS,
  fleetKeys,
  MAX_TXN_BYTES,
  MAX_TXN_OPS,
} from '../src/ha/fleet-codec.js';
import { FleetShare } from '../src/ha/fleet-share.js';
import { reportReaching } from './helpers.js';

const T0 = Date.parse('2026-11-24T03:00:00.000Z');

const report = (version: number, reachable = true, checkedAt = '2026-11-24T03:00:00.000Z') =>
  reportReaching(version, reachable, checkedAt, '10.0.12.34');

function record(name: string, version: number, receivedMs = T0, extra: Partial<AgentRecord> = {}): AgentRecord {
  return {
    name,
    report: report(version),
    remote_address: '10.1.0.7',
    received_at: new Date(receivedMs),
    masters_received_at: new Date(receivedMs),
    bound: true,
    ...extra,
  };
}

describe('chunks of agent records', () => {
  it('an agent\'s chunk depends on its name only, and a fleet spreads evenly over the chunks', () => {
    expect(chunkOf('app1')).toBe(chunkOf('app1'));
    const sizes = new Array<number>(FLEET_CHUNKS).fill(0);
    for (let i = 0; i < 10_000; i++) sizes[chunkOf(`app${i}`)]!++;
    expect(Math.min(...sizes)).toBeGreaterThan(10_000 / FLEET_CHUNKS / 2);
    expect(Math.max(...sizes)).toBeLessThan((10_000 / FLEET_CHUNKS) * 2);
  });

  it('a record comes back as it went, marked with the controller it came through', () => {
    const plain = record('app1', 7);
    const odd: AgentRecord = {
      ...record('app2', 6, T0 + 5),
      report: { ...report(6, false), error: 'EACCES /etc/hosts', masters: [...report(6).masters, ...report(6, false).masters] },
      // A probe time from a controller whose clock is ahead: after received_at.
      masters_received_at: new Date(T0 + 900),
      bound: false,
    };
    const decoded = decodeChunk(encodeChunk([plain, odd]), 'c2');
    expect(decoded).toEqual({ records: [{ ...plain, via: 'c2' }, { ...odd, via: 'c2' }] });
  });

  it('a reader leaves out, before building them, the records it has as new or newer', () => {
    const text = encodeChunk([record('app1', 7, T0), record('app2', 7, T0 + 10)]);
    const asked: [string, number][] = [];
    const decoded = decodeChunk(text, 'c2', (name, receivedMs) => (asked.push([name, receivedMs]), name === 'app2'));
    expect(asked).toEqual([['app1', T0], ['app2', T0 + 10]]);
    expect(decoded).toEqual({ records: [{ ...record('app2', 7, T0 + 10), via: 'c2' }] });
  });

  it('a chunk that cannot be read says why instead of giving records', () => {
    expect(decodeChunk('{', 'c2')).toEqual({ problem: 'not JSON' });
    expect(decodeChunk('{"f":2,"t":[],"a":[]}', 'c2')).toMatchObject({ problem: expect.stringContaining('format 2') });
    const bad = JSON.parse(encodeChunk([record('app1', 1)])) as { a: unknown[][] };
    bad.a[0]![2] = 99; // a text index out of the table
    expect(decodeChunk(JSON.stringify(bad), 'c2')).toMatchObject({ problem: expect.stringContaining('malformed') });
  });

  it('10,000 agents on one controller: ~1 MB, each chunk far below etcd\'s limit, two transactions', () => {
    const chunks = new Map<number, AgentRecord[]>();
    for (let i = 0; i < 10_000; i++) {
      const r = record(`app${i}`, 1234, T0 + i, { remote_address: `10.1.${i >> 8}.${i & 255}` });
      const list = chunks.get(chunkOf(r.name)) ?? [];
      chunks.set(chunkOf(r.name), [...list, r]);
    }
    const puts = [...chunks].map(([chunk, records]) => ({ key: fleetKeys('/p/').chunk('c1', chunk), value: encodeChunk(records) }));
    const sizes = puts.map((p) => p.value.length);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(1_200_000);
    expect(Math.max(...sizes)).toBeLessThan(16 * 1024);
    expect(batches(puts).length).toBe(2);
  });

  it('transactions hold at most 100 operations and 512 KiB, an oversized put alone', () => {
    const put = (n: number) => ({ key: `k${n}`, value: 'x'.repeat(10_000) });
    const many = batches(Array.from({ length: 250 }, (_, i) => put(i)));
    // 52 puts of 10,002 bytes fill 512 KiB.
    expect(many.map((b) => b.length)).toEqual([52, 52, 52, 52, 42]);
    expect(many.every((b) => b.length <= MAX_TXN_OPS)).toBe(true);
    const small = batches(Array.from({ length: 250 }, (_, i) => ({ key: `k${i}`, value: 'x' })));
    expect(small.map((b) => b.length)).toEqual([100, 100, 50]);
    const huge = { key: 'big', value: 'x'.repeat(MAX_TXN_BYTES + 1) };
    expect(batches([put(1), huge, put(2)]).map((b) => b.map((p) => p.key))).toEqual([['k1'], ['big'], ['k2']]);
  });

  it('keys name their controller and chunk', () => {
    const keys = fleetKeys('/p/');
    expect(chunkOfKey(keys.agents, keys.chunk('c/1', 17))).toEqual({ controller: 'c/1', chunk: 17 });
    expect(chunkOfKey(keys.agents, keys.ask)).toBeUndefined();
    expect(chunkOfKey(keys.agents, `${keys.agents}c1/x`)).toBeUndefined();
  });

  it('an ask is read back, anything else is not an ask', () => {
    const ask = { by: 'c1', cluster: 'db', master: 'mysql1', at: '2026-11-24T03:00:00.000Z' };
    expect(askOf(JSON.stringify(ask))).toEqual(ask);
    expect(askOf('{"by":"c1"}')).toBeUndefined();
    expect(askOf('nope')).toBeUndefined();
  });
});

describe('what is worth a write', () => {
  const sent = record('app1', 7);
  it.each([
    ['the record written', sent, undefined],
    ['the same facts, a copy', { ...sent }, undefined],
    ['a new agent', undefined, 'news'],
    ['a version applied', record('app1', 8), 'news'],
    ['a master lost', { ...sent, report: report(7, false) }, 'news'],
    ['a hosts-file error', { ...sent, report: { ...report(7), error: 'EROFS' } }, 'news'],
    ['another address', { ...sent, remote_address: '10.9.9.9' }, 'news'],
    ['heard again', record('app1', 7, T0 + 30_000), 'freshness'],
    ['probed again', { ...sent, report: report(7, true, '2026-11-24T03:00:30.000Z'), masters_received_at: new Date(T0 + 1) }, 'freshness'],
  ] as const)('%s', (_, next, change) => {
    if (next === undefined) expect(changeOf(undefined, sent)).toBe(change);
    else expect(changeOf(sent, next)).toBe(change);
  });
});

describe('the registry takes in what other controllers heard', () => {
  it('the newest record of each agent wins, whoever heard it; nothing is said', () => {
    const registry = new AgentRegistry();
    registry.record('app1', report(5), '10.1.0.1', new Date(T0 + 1000), true);
    const taken: string[] = [];
    registry.onAbsorbed((r) => taken.push(`${r.name}@${r.report.applied_version}`));
    expect(registry.absorb([
      { ...record('app1', 4, T0), via: 'c2' }, // older than what was heard here
      { ...record('app2', 6, T0), via: 'c2' },
    ])).toBe(1);
    expect(registry.get('app1')).toMatchObject({ report: { applied_version: 5 } });
    expect(registry.get('app1')?.via).toBeUndefined();
    expect(registry.absorb([{ ...record('app1', 6, T0 + 2000), via: 'c3' }])).toBe(1);
    expect(registry.get('app1')).toMatchObject({ report: { applied_version: 6 }, via: 'c3' });
    expect(taken).toEqual(['app2@6', 'app1@6']);
    // Each agent once; only reports heard here count as received.
    expect(registry.all().map((r) => r.name)).toEqual(['app1', 'app2']);
    expect(registry.reportsReceived).toBe(1);
    // Heard here again: the record is this controller's own once more, its sentences said here.
    const lines = registry.record('app1', report(7), '10.1.0.1', new Date(T0 + 3000), true);
    expect(registry.get('app1')?.via).toBeUndefined();
    expect(lines.map((l) => l.message)).toEqual(['agent app1 applied version 7']);
  });
});

/** An etcd that records each transaction's puts and deletes; reads and watches never answer. */
function fakeEtcd() {
  const writes: { put: string[]; del: string[] }[] = [];
  const client = {
    txn: (_compares: unknown, ops: Operation[]) => {
      const keyOf = (o: Operation, kind: string) => decode(o[kind]?.key as string);
      writes.push({
        put: ops.filter((o) => o.request_put).map((o) => keyOf(o, 'request_put')),
        del: ops.filter((o) => o.request_delete_range).map((o) => keyOf(o, 'request_delete_range')),
      });
      return Promise.resolve({ succeeded: true, revision: writes.length, ranges: [] });
    },
  };
  return { client: client as unknown as EtcdClient, writes };
}

describe('what a controller writes', () => {
  const setup = (refreshMs = 60_000) => {
    const registry = new AgentRegistry();
    const etcd = fakeEtcd();
    const share = new FleetShare(etcd.client, { prefix: '/p/', name: 'c1', registry, askForReports: () => 0, log: () => {}, refreshMs });
    const key = (agent: string) => fleetKeys('/p/').chunk('c1', chunkOf(agent));
    return { registry, share, key, writes: etcd.writes };
  };

  /** `count` agents reported at version 1, their chunks written, the writes forgotten. */
  const reportedOnce = async (count: number) => {
    const fleet = setup();
    const names = Array.from({ length: count }, (_, i) => `app${i}`);
    for (const name of names) fleet.registry.record(name, report(1), '10.1.0.1', new Date(T0), true);
    await fleet.share.flush();
    fleet.writes.length = 0;
    return { ...fleet, names };
  };

  it('news at the next flush, the same facts heard again only when the chunk is due or after an ask', async () => {
    const { registry, share, key, writes } = setup();
    registry.record('app1', report(1), '10.1.0.1', new Date(T0), true);
    registry.record('app2', report(1), '10.1.0.2', new Date(T0), true);
    await share.flush();
    expect(writes.map((w) => ({ ...w, put: w.put.sort() }))).toEqual([{ put: [key('app1'), key('app2')].sort(), del: [] }]);
    writes.length = 0;
    registry.record('app1', report(1), '10.1.0.1', new Date(T0 + 30_000), true);
    await share.flush();
    expect(writes).toEqual([]);
    registry.acknowledge('app2', 2, 'b'.repeat(64), '10.1.0.2', new Date(T0 + 30_000), true);
    await share.flush();
    expect(writes).toEqual([{ put: [key('app2')], del: [] }]);
    writes.length = 0;
    share.ask('myservice', 'mysql1');
    await share.flush();
    expect(writes.flatMap((w) => w.put)).toEqual([fleetKeys('/p/').ask, key('app1')]);
  });

  it('during a rollout, versions applied are written once the acknowledgements stop coming', async () => {
    const { registry, share, writes, names } = await reportedOnce(150);
    for (const name of names) registry.acknowledge(name, 2, 'b'.repeat(64), '10.1.0.1', new Date(T0 + 1000), true);
    await share.flush();
    expect(writes).toEqual([]);
    await share.flush();
    const chunks = new Set(names.map((name) => chunkOf(name)));
    expect(writes.flatMap((w) => w.put)).toHaveLength(chunks.size);
    writes.length = 0;
    await share.flush();
    expect(writes).toEqual([]);
  });

  it('stragglers of a rollout keep it going: the chunks are written once, after the last of them', async () => {
    const { registry, share, writes, names } = await reportedOnce(300);
    const [burst, tail] = [names.slice(0, 250), names.slice(250)];
    for (const name of burst) registry.acknowledge(name, 2, 'b'.repeat(64), '10.1.0.1', new Date(T0 + 1000), true);
    await share.flush();
    // A few a round: fewer than a burst, and still a rollout.
    for (const stragglers of [tail.slice(0, 20), tail.slice(20, 40), tail.slice(40)]) {
      for (const name of stragglers) registry.acknowledge(name, 2, 'b'.repeat(64), '10.1.0.1', new Date(T0 + 2000), true);
      await share.flush();
      expect(writes).toEqual([]);
    }
    await share.flush();
    const chunks = new Set(names.map((name) => chunkOf(name)));
    const written = writes.flatMap((w) => w.put);
    expect(written).toHaveLength(chunks.size);
    expect(new Set(written).size).toBe(chunks.size);
  });

  it('an agent taken over by another controller leaves the chunk; an emptied chunk is deleted', async () => {
    const { registry, share, key, writes } = setup();
    registry.record('app1', report(1), '10.1.0.1', new Date(T0), true);
    await share.flush();
    writes.length = 0;
    registry.absorb([{ ...record('app1', 2, T0 + 1000), via: 'c2' }]);
    await share.flush();
    expect(writes).toEqual([{ put: [], del: [key('app1')] }]);
    writes.length = 0;
    await share.flush();
    expect(writes).toEqual([]);
  });

  it('records heard elsewhere are never written back', async () => {
    const { registry, share, writes } = setup(0);
    registry.absorb([{ ...record('app1', 2, T0), via: 'c2' }]);
    await share.flush();
    expect(writes).toEqual([]);
  });
});
