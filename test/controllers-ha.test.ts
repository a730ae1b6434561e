import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FailoverRecord } from '@pullover/protocol';
import { type AgentHandle, CONTROLLER_CLI, type EtcdCluster, type EtcdStoreSpec, HaFleet, runCli, signalPid, startEtcd } from '@pullover/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../packages/controller/src/ha/etcd-client.js';
import { startFailoverFleet } from './support/failover-fleet.js';
import { type Fleet, HOSTNAME, ORIGINAL_HOSTS } from './support/fleet.js';
import { addressIn, type Cluster, HostnameWriter, type Server, startCluster, waitFor } from './support/mariadb.js';

// Three real controllers on a real three-member etcd, around a real MariaDB cluster, with agents
// that know every controller. TTL 3 s: 3 s − 0.5 s margin ≥ 0.5 s interval + 2 × 1 s retry budget.
const TTL_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface HaOptions {
  agents?: number;
  /** More keys of the cluster, indented by four spaces. */
  clusterExtra?: string;
  endpointsOf?: EtcdStoreSpec['endpointsOf'];
}

describe('several controllers on etcd', () => {
  let etcd: EtcdCluster;
  let cluster: Cluster;
  let fleet: HaFleet | undefined;
  const strays: Fleet[] = [];

  beforeAll(async () => {
    [etcd, cluster] = await Promise.all([startEtcd({ id: 77 }), startCluster({ id: 64 })]);
  });
  afterEach(async () => {
    await fleet?.destroy();
    fleet = undefined;
    await Promise.all(strays.splice(0).map((f) => f.destroy()));
    for (const m of etcd.members) {
      if (m.isPaused) m.resume();
      if (!m.isRunning) await m.start();
    }
    await Promise.all([etcd.waitHealthy(), cluster.reset()]);
  });
  afterAll(async () => {
    await fleet?.destroy();
    await Promise.all([etcd?.destroy(), cluster?.destroy()]);
  });

  async function startHa(opts: HaOptions = {}): Promise<HaFleet> {
    const ha = new HaFleet(await HaFleet.makeDir('pullover-ha-'));
    fleet = ha;
    const replFile = join(ha.dir, 'repl.password');
    await writeFile(replFile, `${cluster.repl.password}\n`);
    const { admin, repl } = cluster;
    await ha.configureControllers(
      {
        cluster: 'myservice',
        masterHostnames: [HOSTNAME],
        mysql: {
          port: cluster.master.port,
          user: admin.user,
          password_file: admin.passwordFile,
          replication_user: repl.user,
          replication_password_file: replFile,
        },
        servers: cluster.servers.map(({ name, address }, i) => ({ name, address, candidate: i === 1 })),
        clusterExtra: `    monitor: { interval: 500ms }\n${opts.clusterExtra ?? ''}`,
      },
      {
        endpoints: etcd.endpoints,
        prefix: `/ha-${Date.now()}/`,
        leaseTtl: `${TTL_MS / 1000}s`,
        retryTimeout: '1s',
        ...(opts.endpointsOf ? { endpointsOf: opts.endpointsOf } : {}),
      },
      3,
    );
    await Promise.all([0, 1, 2].map((i) => ha.startControllerAt(i)));
    for (let i = 1; i <= (opts.agents ?? 2); i++) {
      const agent = await ha.writeAgent(`app${i}`, {
        hosts: ORIGINAL_HOSTS,
        extra: 'check_interval: 1s\nbackoff: { min: 100ms, max: 500ms }\n',
        controllers: ha.urls,
      });
      await ha.startAgent(agent);
    }
    await agentsOn(ha, cluster.master).catch(async (error: unknown) => {
      const tails = await Promise.all([...ha.controllers, ha.agents[0]?.proc].map((p) => p?.logTail(12)));
      throw new Error(`${(error as Error).message}\n${tails.join('\n---\n')}`);
    });
    return ha;
  }

  const mapped = (agents: readonly AgentHandle[]) =>
    Promise.all(agents.map(async (a) => addressIn(await readFile(a.hostsFile, 'utf8'), HOSTNAME)));
  const agentsOn = (ha: HaFleet, server: Server, timeoutMs = 15_000, agents = ha.agents) =>
    waitFor(async () => (await mapped(agents)).every((a) => a === server.address), timeoutMs, `every agent on ${server.name}`);
  const post = (ha: HaFleet, index: number, path: string, body: unknown = {}) => ha.use(index).adminRequest('POST', path, body);
  const writable = async () => (await cluster.writableServers()).map((s) => s.name);
  const history = async (ha: HaFleet, index: number) => {
    const response = await ha.use(index).adminRequest('GET', '/v1/history');
    return ((await response.json()) as { failovers: FailoverRecord[] }).failovers;
  };
  const role = async (ha: HaFleet, index: number) => {
    const response = await ha.use(index).adminRequest('GET', '/v1/leader').catch(() => undefined);
    return response?.ok ? ((await response.json()) as { self: { role: string } }).self.role : undefined;
  };
  const logOf = (ha: HaFleet, index: number) => ha.controllers[index]!.log();

  it('one leads; a follower refuses an admin write with 421 naming the leader, and serves what the leader commits', async () => {
    const ha = await startHa();
    const leader = await ha.waitLeader(10_000);
    const follower = [0, 1, 2].find((i) => i !== leader.index)!;
    const refused = await post(ha, follower, '/v1/clusters/myservice/set-master', { server: 'mysql2' });
    const body = (await refused.json()) as { code: string; leader: unknown };
    expect({ status: refused.status, code: body.code, leader: body.leader }).toEqual({
      status: 421,
      code: 'PULLOVER_NOT_LEADER',
      leader: { name: leader.name, url: ha.urls[leader.index], term: leader.term },
    });
    // The CLI given the follower's URL follows the 421 to the leader.
    const args = ['set-master', '--cluster', 'myservice', 'mysql2', '--url', ha.urls[follower]!, '--token-file', ha.adminTokenFile];
    const cli = await runCli(CONTROLLER_CLI, args);
    expect(cli.code, cli.stderr).toBe(0);
    const status = (await (await ha.use(follower).adminRequest('GET', '/v1/status')).json()) as { version: number };
    // Every controller serves the committed version, stamped with the leader's term.
    for (const i of [0, 1, 2]) {
      await waitFor(async () => {
        const poll = await ha.use(i).fetch('/v1/mapping?wait=0', { headers: { authorization: `Bearer ${ha.agents[0]!.token}` } });
        const mapping = (await poll.json()) as { version: number; term?: number };
        return mapping.version >= status.version && mapping.term === leader.term;
      }, 5000, `controller c${i + 1} to serve the new version`);
    }
    await agentsOn(ha, cluster.servers[1]!);
  }, 60_000);

  it('the leader and the master killed together: another controller fails over, every app host on the new master, no write lost', async () => {
    const ha = await startHa();
    const { master } = cluster;
    const { hostsFile } = ha.agents[0]!;
    const writer = new HostnameWriter({ hostsFile, hostname: HOSTNAME, port: master.port, login: cluster.app }).start();
    try {
      await waitFor(() => writer.acknowledged.length >= 20, 10_000, 'writes on mysql1');
      const leader = await ha.waitLeader(10_000);
      const killedAt = Date.now();
      await Promise.all([ha.controllers[leader.index]!.kill('SIGKILL'), master.kill('SIGKILL')]);
      const next = await ha.waitLeader(TTL_MS + 5000, leader.name);
      const ledAfterMs = Date.now() - killedAt;
      const target = cluster.servers[1]!;
      await agentsOn(ha, target, TTL_MS + 10_000);
      const switchedAfterMs = Date.now() - killedAt;
      const count = writer.acknowledged.length;
      await waitFor(() => writer.acknowledged.length >= count + 10, 10_000, 'writes on the new master');
      await writer.stop();
      const missing = await writer.missingOn(target);
      console.log(`leader ${leader.name} and ${master.name} SIGKILLed: ${next.name} led after ${ledAfterMs} ms; every app host on ${target.name} after ${switchedAfterMs} ms`);
      const inTime = switchedAfterMs <= TTL_MS + 3000;
      expect({ missing: missing.length, inTime, writable: await writable() }).toEqual({
        missing: 0,
        inTime: true,
        writable: ['mysql2'],
      });
    } finally {
      await writer.stop();
    }
  }, 90_000);

  // The leader dies inside its failover: before anything was promoted (in the fence command), or
  // after the new master was published (waiting for an agent that is stopped).
  it.each([
    { at: 'fence', extra: (dir: string) => `    failover: { fence_command: "[ -e ${dir}/fenced ] || { touch ${dir}/fenced; sleep 30; }" }\n` },
    { at: 'agents-applied', extra: () => '    failover: { agents_timeout: 8s }\n' },
  ])('the leader SIGKILLed in its failover ($at): the next leader finishes the journaled failover, once', async ({ at, extra }) => {
    const dir = cluster.dir;
    const ha = await startHa({ clusterExtra: extra(dir), agents: at === 'agents-applied' ? 3 : 2 });
    const leader = await ha.waitLeader(10_000);
    // The leader knows every agent (those heard by the others come through etcd) before app3 stops.
    await waitFor(async () => {
      const status = await ha.use(leader.index).adminRequest('GET', '/v1/status');
      return ((await status.json()) as { agents_current: number }).agents_current === ha.agents.length;
    }, 10_000, 'the leader to know every agent');
    if (at === 'agents-applied') await ha.agents[2]!.proc!.kill('SIGKILL');
    await cluster.master.kill('SIGKILL');
    await waitFor(async () => {
      if (at === 'fence') return (await readFile(join(dir, 'fenced')).catch(() => undefined)) !== undefined;
      // Published (the live agents follow it) and still running: it waits for app3, which is gone.
      const running = (await history(ha, leader.index)).some((r) => r.outcome === 'running');
      return running && (await mapped(ha.agents.slice(0, 2))).every((a) => a === cluster.servers[1]!.address);
    }, 15_000, `the leader's failover at ${at}`).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}\n${await ha.controllers[leader.index]!.logTail(25)}`);
    });
    await ha.controllers[leader.index]!.kill('SIGKILL');
    const next = await ha.waitLeader(TTL_MS + 5000, leader.name);
    await agentsOn(ha, cluster.servers[1]!, 30_000, ha.agents.slice(0, 2));
    const filed = await waitFor(async () => {
      const records = await history(ha, next.index);
      return records.length === 1 && records[0]!.outcome !== 'running' ? records : undefined;
    }, 40_000, 'the failover filed by the next leader');
    expect({ outcome: filed[0]!.outcome, to: filed[0]!.new_master, writable: await writable() }).toEqual({
      outcome: 'done',
      to: 'mysql2',
      writable: ['mysql2'],
    });
  }, 90_000);

  it('a leader frozen past its lease is replaced; thawed, it has lost its sessions and acts no more', async () => {
    const ha = await startHa();
    const old = await ha.waitLeader(10_000);
    // It changes the servers once: its sessions hold the cluster's lock on them.
    const first = await post(ha, old.index, '/v1/clusters/myservice/switchover', { to: 'mysql2' });
    expect(first.status, await first.clone().text()).toBe(200);
    signalPid(ha.controllers[old.index]!.pid, 'SIGSTOP');
    const next = await ha.waitLeader(TTL_MS + 5000, old.name);
    expect(next.term).toBeGreaterThan(old.term);
    const back = await post(ha, next.index, '/v1/clusters/myservice/switchover', { to: 'mysql1' });
    expect(back.status, await back.clone().text()).toBe(200);
    signalPid(ha.controllers[old.index]!.pid, 'SIGCONT');
    await waitFor(async () => (await role(ha, old.index)) === 'follower', 5000, `${old.name} to know it follows`);
    await sleep(2000);
    const log = await logOf(ha, next.index);
    expect({
      writable: await writable(),
      tookOver: /took the cluster's lock over from connection/.test(log),
      oldRole: await role(ha, old.index),
    }).toEqual({ writable: ['mysql1'], tookOver: true, oldRole: 'follower' });
    await agentsOn(ha, cluster.master);
  }, 90_000);

  it('etcd without quorum: nobody acts, the healthy master stays writable, files stay; quorum back: one leads again', async () => {
    const ha = await startHa();
    const before = await ha.waitLeader(10_000);
    const files = await Promise.all(ha.agents.map((a) => readFile(a.hostsFile, 'utf8')));
    await Promise.all(etcd.members.slice(1).map((m) => m.kill('SIGKILL')));
    await sleep(TTL_MS + 2000);
    const refused = await post(ha, before.index, '/v1/clusters/myservice/set-master', { server: 'mysql2' });
    const poll = await ha.use(before.index).fetch('/v1/mapping?wait=0', { headers: { authorization: `Bearer ${ha.agents[0]!.token}` } });
    expect({
      roles: await Promise.all([0, 1, 2].map((i) => role(ha, i))),
      write: refused.status,
      poll: poll.status,
      writable: await writable(),
      files: await Promise.all(ha.agents.map((a) => readFile(a.hostsFile, 'utf8'))),
    }).toEqual({ roles: ['follower', 'follower', 'follower'], write: 421, poll: 503, writable: ['mysql1'], files });
    await Promise.all(etcd.members.slice(1).map((m) => m.start()));
    const after = await ha.waitLeader(20_000);
    expect(after.term).toBeGreaterThan(before.term);
    expect((await post(ha, after.index, '/v1/clusters/myservice/set-master', { server: 'mysql1' })).status).toBe(200);
  }, 90_000);

  it('the leader\'s lease revoked by hand: a new term begins and the old leader stops acting', async () => {
    const ha = await startHa();
    const before = await ha.waitLeader(10_000);
    const client = new EtcdClient({ endpoints: etcd.endpoints, retryTimeoutMs: 1000 });
    try {
      const { kvs } = await client.range(`${await prefixOf(ha)}leader`);
      await client.revoke(kvs[0]!.lease);
    } finally {
      await client.close();
    }
    const after = await waitFor(async () => {
      const leader = await ha.leader();
      return leader && leader.term > before.term ? leader : undefined;
    }, TTL_MS + 5000, 'a new term');
    expect((await post(ha, after.index, '/v1/clusters/myservice/set-master', { server: 'mysql1' })).status).toBe(200);
    if (after.index !== before.index) expect(await role(ha, before.index)).toBe('follower');
  }, 60_000);

  it.each(['black hole', 'reset'])('the leader cut off from etcd (%s): another leads, the cut-off one stops acting, and follows when back', async (cut) => {
    // Each controller knows one etcd member: cutting the leader's member cuts the leader alone off.
    const ha = await startHa({ endpointsOf: (i) => [etcd.endpoints[i]!] });
    const old = await ha.waitLeader(10_000);
    const member = etcd.members[old.index]!;
    if (cut === 'black hole') member.pause();
    else await member.kill('SIGKILL');
    const next = await ha.waitLeader(TTL_MS + 5000, old.name);
    const refused = await post(ha, old.index, '/v1/clusters/myservice/set-master', { server: 'mysql2' });
    expect({ role: await role(ha, old.index), refused: refused.status }).toEqual({ role: 'follower', refused: 421 });
    expect((await post(ha, next.index, '/v1/clusters/myservice/set-master', { server: 'mysql2' })).status).toBe(200);
    if (cut === 'black hole') member.resume();
    else await member.start();
    await agentsOn(ha, cluster.servers[1]!);
    // Back in touch, it serves what the new leader committed.
    await waitFor(async () => {
      const poll = await ha.use(old.index).fetch('/v1/mapping?wait=0', { headers: { authorization: `Bearer ${ha.agents[0]!.token}` } });
      return poll.ok && ((await poll.json()) as { term?: number }).term === next.term;
    }, 15_000, `${old.name} to serve term ${next.term}'s version`);
    expect(await writable()).toEqual(['mysql1']);
  }, 60_000);

  it('a follower cut off from etcd stops holding polls (503); its agents move on and no file goes back', async () => {
    // c3 knows only the third etcd member: stopping that member cuts c3 alone off.
    const ha = await startHa({ endpointsOf: (i) => (i === 2 ? [etcd.endpoints[2]!] : etcd.endpoints.slice(0, 2)) });
    const leader = await ha.waitLeader(10_000);
    if (leader.index === 2) {
      await ha.controllers[2]!.stop(5000);
      await ha.startControllerAt(2);
    }
    etcd.members[2]!.pause();
    // If that member led etcd, its raft election may depose our leader too (its write's outcome unknown).
    await sleep(1500);
    // A leader found just before that deposition answers 421 (refused unread): ask the next one.
    let moved = await post(ha, (await ha.waitLeader(10_000)).index, '/v1/clusters/myservice/set-master', { server: 'mysql2' });
    for (let tries = 0; moved.status === 421 && tries < 3; tries++) {
      await sleep(TTL_MS);
      moved = await post(ha, (await ha.waitLeader(10_000)).index, '/v1/clusters/myservice/set-master', { server: 'mysql2' });
    }
    expect(moved.status, await moved.clone().text()).toBe(200);
    const { version } = (await moved.json()) as { version: number };
    await agentsOn(ha, cluster.servers[1]!);
    await sleep(TTL_MS + 1500);
    const auth = { authorization: `Bearer ${ha.agents[0]!.token}` };
    const stale = await ha.use(2).fetch(`/v1/mapping?after=${version}&wait=1&agent=app1`, { headers: auth });
    const body = (await stale.json()) as { code: string };
    expect({ status: stale.status, code: body.code, files: await mapped(ha.agents) }).toEqual({
      status: 503,
      code: 'PULLOVER_NOT_SERVING',
      files: ha.agents.map(() => cluster.servers[1]!.address),
    });
  }, 60_000);

  it('a stray controller (its own state dir) against the same servers changes nothing: the acting one holds them', async () => {
    const acting = await startFailoverFleet(cluster, { agents: 1 });
    strays.push(acting);
    const moved = await acting.api('POST', '/v1/clusters/myservice/switchover', { to: 'mysql2' });
    expect(moved.status, await moved.clone().text()).toBe(200);
    // The stray thinks mysql1 (read_only now) is its master, restarted: restart_recovery would make it writable.
    const stray = await startFailoverFleet(cluster, { agents: 0, clusterExtra: '    restart_recovery: auto\n' });
    strays.push(stray);
    await waitFor(async () => /another pullover controller holds mysql1/.test(await stray.controller!.log()), 10_000, 'the stray refused');
    await sleep(2000);
    expect(await writable()).toEqual(['mysql2']);
  }, 60_000);

  async function prefixOf(ha: HaFleet): Promise<string> {
    const config = await readFile(ha.configOf(0), 'utf8');
    return /prefix: (\S+)/.exec(config)![1]!;
  }
});
