import type { AgentReport } from '@pullover/protocol';
import { type EtcdCluster, startEtcd, waitFor } from '@pullover/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../packages/controller/src/agents/registry.js';
import { EtcdClient } from '../packages/controller/src/ha/etcd-client.js';
import { decodeChunk, fleetKeys } from '../packages/controller/src/ha/fleet-codec.js';
import { FleetShare } from '../packages/controller/src/ha/fleet-share.js';
import type { LogLine } from '../packages/controller/src/log-line.js';

// Two controllers' shares of their agents on a real three-member etcd (127.0.78.1..3).

function report(version: number, reachable = true): AgentReport {
  return {
    applied_version: version,
    block_hash: 'a'.repeat(64),
    hosts_file: '/etc/hosts',
    masters: [{ cluster: 'db', address: '10.0.0.1', port: 3306, reachable, detail: 'greeting', checked_at: new Date().toISOString() }],
    agent_version: '0.1.0',
  };
}

describe('controllers share their agents through etcd', () => {
  let etcd: EtcdCluster;
  let prefix = '';
  const clients: EtcdClient[] = [];
  const shares: FleetShare[] = [];

  const client = () => {
    const c = new EtcdClient({ endpoints: etcd.endpoints, retryTimeoutMs: 1000 });
    clients.push(c);
    return c;
  };
  /** A controller's share, started: its registry, how often its agents were asked, what it said. */
  const controller = (name: string) => {
    const registry = new AgentRegistry();
    const said: LogLine[] = [];
    const c = client();
    const asked = { times: 0 };
    const share = new FleetShare(c, {
      prefix,
      name,
      registry,
      askForReports: () => ++asked.times,
      log: (line) => said.push(line),
      flushMs: 100,
      retryMs: 200,
    });
    shares.push(share);
    share.start();
    return { name, registry, share, client: c, asked, said };
  };
  /** The agent names in each of `controller`'s chunks in etcd. */
  const written = async (controller: string) => {
    const { kvs } = await client().range(`${fleetKeys(prefix).agents}${controller}/`, { prefix: true });
    return kvs.flatMap((kv) => {
      const decoded = decodeChunk(kv.value, controller);
      return 'records' in decoded ? decoded.records.map((r) => r.name) : [`unreadable ${kv.key}`];
    }).sort();
  };

  beforeAll(async () => {
    etcd = await startEtcd({ id: 78 });
  });
  afterEach(async () => {
    await Promise.all(shares.splice(0).map((s) => s.stop()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await etcd?.destroy();
  });

  it('what one controller hears, the other sees within a second; the newest wins; nothing bounces back', async () => {
    prefix = '/share/';
    const a = controller('a');
    const b = controller('b');
    a.registry.record('app1', report(3), '10.1.0.1', new Date(), true);
    const startedAt = performance.now();
    await waitFor(() => b.registry.get('app1')?.report.applied_version === 3, 1000, 'app1 seen by b');
    const tookMs = Math.round(performance.now() - startedAt);
    expect(b.registry.get('app1')).toMatchObject({ via: 'a', bound: true, remote_address: '10.1.0.1' });
    b.registry.record('app2', report(3, false), '10.1.0.2', new Date(), true);
    await waitFor(() => a.registry.get('app2')?.via === 'b', 1000, 'app2 seen by a');
    expect(a.registry.get('app2')?.report.masters[0]?.reachable).toBe(false);

    // app1 moves to b: b's newer record wins on a, and a's chunk lets it go.
    b.registry.record('app1', report(4), '10.1.0.1', new Date(Date.now() + 1), true);
    await waitFor(() => a.registry.get('app1')?.via === 'b', 1000, 'app1 through b on a');
    expect(a.registry.get('app1')?.report.applied_version).toBe(4);
    await waitFor(async () => (await written('a')).length === 0, 1000, 'a\'s chunks emptied');
    expect(await written('b')).toEqual(['app1', 'app2']);
    expect(b.registry.get('app1')?.via).toBeUndefined();
    // No per-agent sentence from the controller that did not hear the agent.
    expect([...a.said, ...b.said].filter((l) => l.message.includes('app'))).toEqual([]);
    console.log(`a record written by one controller was seen by the other after ${tookMs} ms`);
  });

  it('an ask put by one controller ends the polls parked on the other, once', async () => {
    prefix = '/ask/';
    const a = controller('a');
    const b = controller('b');
    // Both watches are running once each sees the other's first write.
    a.registry.record('app1', report(1), '10.1.0.1', new Date(), true);
    b.registry.record('app2', report(1), '10.1.0.2', new Date(), true);
    await waitFor(() => a.registry.size === 2 && b.registry.size === 2, 2000, 'both watching');
    a.share.ask('db', 'mysql1');
    await waitFor(() => b.asked.times === 1, 1000, 'b asked');
    await new Promise((r) => setTimeout(r, 500));
    expect({ a: a.asked.times, b: b.asked.times }).toEqual({ a: 0, b: 1 });
    expect(b.said.map((l) => l.message)).toContain('controller b: a asked every agent whether it reaches mysql1 (db): 1 parked poll(s) here answered');
    // A controller started after the ask does not answer it: it is past.
    const c = controller('c');
    await waitFor(() => c.registry.size === 2, 2000, 'c read the others');
    await new Promise((r) => setTimeout(r, 300));
    expect(c.asked.times).toBe(0);
    a.share.ask('db', 'mysql1');
    await waitFor(() => b.asked.times === 2 && c.asked.times === 1, 1000, 'b and c asked again');
  });

  it('the watch\'s member killed: the gap is read again and what was written meanwhile arrives', async () => {
    prefix = '/gap/';
    const a = controller('a');
    const b = controller('b');
    a.registry.record('app1', report(1), '10.1.0.1', new Date(), true);
    await waitFor(() => b.registry.size === 1, 2000, 'b watching');
    const member = etcd.members.find((m) => m.clientUrl === b.client.endpoint);
    if (!member) throw new Error(`no member at ${b.client.endpoint}`);
    await member.kill('SIGKILL');
    try {
      for (let i = 2; i <= 20; i++) a.registry.record(`app${i}`, report(1), '10.1.0.1', new Date(), true);
      await waitFor(() => b.registry.size === 20, 5000, 'b caught up');
      expect(b.said.map((l) => l.message).some((m) => m.includes('failed'))).toBe(true);
    } finally {
      await member.start();
      await etcd.waitHealthy();
    }
  });

  it('10,000 agents heard by one controller: every chunk accepted by etcd, the other sees them all', async () => {
    prefix = '/big/';
    const a = controller('a');
    const b = controller('b');
    const at = new Date();
    for (let i = 0; i < 10_000; i++) a.registry.record(`app${i}`, report(7), `10.1.${i >> 8}.${i & 255}`, at, true);
    const startedAt = performance.now();
    await waitFor(() => b.registry.size === 10_000, 10_000, 'b to see 10,000 agents');
    const tookMs = Math.round(performance.now() - startedAt);
    const { kvs } = await client().range(`${fleetKeys(prefix).agents}a/`, { prefix: true });
    const sizes = kvs.map((kv) => kv.value.length);
    const total = sizes.reduce((x, y) => x + y, 0);
    expect(a.said.filter((l) => l.level === 'warn')).toEqual([]);
    console.log(`10,000 agents: ${kvs.length} chunks, ${total} bytes (largest ${Math.max(...sizes)}), all seen by the other controller after ${tookMs} ms`);
    // One version applied by the whole fleet: written again as news, seen again within a few seconds.
    for (let i = 0; i < 10_000; i++) a.registry.acknowledge(`app${i}`, 8, 'b'.repeat(64), `10.1.${i >> 8}.${i & 255}`, new Date(), true);
    await waitFor(() => [...b.registry.records()].every((r) => r.report.applied_version === 8), 5000, 'b to see version 8 everywhere');
  });

  it('a controller restarted reads what it heard before and what the others hold at once', async () => {
    prefix = '/restart/';
    const a = controller('a');
    const b = controller('b');
    for (let i = 1; i <= 300; i++) (i % 2 ? a : b).registry.record(`app${i}`, report(1), '10.1.0.1', new Date(), true);
    await waitFor(async () => (await written('a')).length === 150 && (await written('b')).length === 150, 2000, 'both written');
    await a.share.stop();
    const again = controller('a');
    await waitFor(() => again.registry.size === 300, 2000, 'the whole fleet read');
    // Read back, not heard: the new incarnation neither rewrites them nor claims them as heard.
    expect(again.registry.get('app1')?.via).toBe('a');
    expect(again.said.map((l) => l.message)).toContain(`controller a: shares its agents through etcd (${prefix}fleet/): 300 agent record(s) read`);
  });
});
