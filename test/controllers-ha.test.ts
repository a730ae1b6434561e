import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EtcdCluster, HaFleet, startEtcd } from '@pullover/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HOSTNAME, ORIGINAL_HOSTS } from './support/fleet.js';
import { addressIn, type Cluster, HostnameWriter, type Server, startCluster, waitFor } from './support/mariadb.js';

// Three real controllers on a real three-member etcd, around a real MariaDB cluster, with agents
// that know every controller. TTL 3 s: 3 s − 0.5 s margin ≥ 0.5 s interval + 2 × 1 s retry budget.
const TTL_MS = 3000;

describe('several controllers on etcd', () => {
  let etcd: EtcdCluster;
  let cluster: Cluster;
  let fleet: HaFleet | undefined;

  beforeAll(async () => {
    [etcd, cluster] = await Promise.all([startEtcd({ id: 77 }), startCluster({ id: 64 })]);
  });
  afterEach(async () => {
    await fleet?.destroy();
    fleet = undefined;
    await cluster.reset();
  });
  afterAll(async () => {
    await fleet?.destroy();
    await Promise.all([etcd?.destroy(), cluster?.destroy()]);
  });

  async function startHa(agents = 2): Promise<HaFleet> {
    const ha = new HaFleet(await HaFleet.makeDir('pullover-ha-'));
    fleet = ha;
    const replFile = join(ha.dir, 'repl.password');
    await writeFile(replFile, `${cluster.repl.password}\n`);
    await ha.configureControllers(
      {
        cluster: 'myservice',
        masterHostnames: [HOSTNAME],
        mysql: {
          port: cluster.master.port,
          user: cluster.admin.user,
          password_file: cluster.admin.passwordFile,
          replication_user: cluster.repl.user,
          replication_password_file: replFile,
        },
        servers: cluster.servers.map((s, i) => ({ name: s.name, address: s.address, ...(i === 1 ? { candidate: true } : {}) })),
        clusterExtra: '    monitor: { interval: 500ms }\n',
      },
      { endpoints: etcd.endpoints, prefix: `/ha-${Date.now()}/`, leaseTtl: `${TTL_MS / 1000}s`, retryTimeout: '1s' },
      3,
    );
    await Promise.all([0, 1, 2].map((i) => ha.startControllerAt(i)));
    for (let i = 1; i <= agents; i++) {
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

  const mapped = (ha: HaFleet) => Promise.all(ha.agents.map(async (a) => addressIn(await readFile(a.hostsFile, 'utf8'), HOSTNAME)));
  const agentsOn = (ha: HaFleet, server: Server, timeoutMs = 15_000) =>
    waitFor(async () => (await mapped(ha)).every((address) => address === server.address), timeoutMs, `every agent on ${server.name}`);

  it('one leads; a follower refuses an admin write with 421 naming the leader, and serves what the leader commits', async () => {
    const ha = await startHa();
    const leader = await ha.waitLeader(10_000);
    const follower = [0, 1, 2].find((i) => i !== leader.index) as number;
    const refused = await ha.use(follower).adminRequest('POST', '/v1/clusters/myservice/set-master', { server: 'mysql2' });
    const body = (await refused.json()) as { code: string; leader: { name: string; url: string; term: number } };
    expect({ status: refused.status, code: body.code, leader: body.leader }).toEqual({
      status: 421,
      code: 'PULLOVER_NOT_LEADER',
      leader: { name: leader.name, url: ha.urls[leader.index], term: leader.term },
    });
    const moved = await ha.use(leader.index).adminRequest('POST', '/v1/clusters/myservice/set-master', { server: 'mysql2' });
    expect(moved.status).toBe(200);
    const { version } = (await moved.json()) as { version: number };
    // Every controller serves the committed version, stamped with the leader's term.
    for (const i of [0, 1, 2]) {
      await waitFor(async () => {
        const poll = await ha.use(i).fetch(`/v1/mapping?wait=0&agent=app1`, { headers: { authorization: `Bearer ${ha.agents[0]!.token}` } });
        const mapping = (await poll.json()) as { version: number; term?: number };
        return mapping.version === version && mapping.term === leader.term;
      }, 5000, `controller c${i + 1} to serve version ${version}`);
    }
    await agentsOn(ha, cluster.servers[1]!);
  }, 60_000);

  it('the leader and the master killed together: another controller fails over, every app host on the new master, no write lost', async () => {
    const ha = await startHa();
    const { master } = cluster;
    const writer = new HostnameWriter({ hostsFile: ha.agents[0]!.hostsFile, hostname: HOSTNAME, port: master.port, login: cluster.app }).start();
    try {
      await waitFor(() => writer.acknowledged.length >= 20, 10_000, 'writes on mysql1');
      const leader = await ha.waitLeader(10_000);
      const killedAt = Date.now();
      await Promise.all([ha.controllers[leader.index]!.kill('SIGKILL'), master.kill('SIGKILL')]);
      const next = await ha.waitLeader(TTL_MS + 5000, leader.name);
      const ledAfterMs = Date.now() - killedAt;
      const target = cluster.servers.find((s) => s !== master && s.name === 'mysql2')!;
      await agentsOn(ha, target, TTL_MS + 10_000);
      const switchedAfterMs = Date.now() - killedAt;
      const count = writer.acknowledged.length;
      await waitFor(() => writer.acknowledged.length >= count + 10, 10_000, 'writes on the new master');
      await writer.stop();
      const missing = await writer.missingOn(target);
      console.log(`leader ${leader.name} and ${master.name} SIGKILLed: ${next.name} led after ${ledAfterMs} ms; every app host on ${target.name} after ${switchedAfterMs} ms`);
      expect({ missing: missing.length, newLeader: next.name !== leader.name, inTime: switchedAfterMs <= TTL_MS + 3000 }).toEqual({ missing: 0, newLeader: true, inTime: true });
    } finally {
      await writer.stop();
    }
  }, 90_000);
});
