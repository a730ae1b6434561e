import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Status, SwitchoverResponse } from '@pullover/protocol';
import { type EtcdCluster, HaFleet, startEtcd } from '@pullover/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTNAME, ORIGINAL_HOSTS } from './support/fleet.js';
import { addressIn, type Cluster, type Server, startCluster, waitFor } from './support/mariadb.js';

// Three real controllers on a real etcd, four agents each told ONE controller (c1, c2, c3, c1):
// the leader sees the whole fleet, in its status and when a switchover waits for the agents.
const TTL_MS = 3000;

describe('several controllers share their agents', () => {
  let etcd: EtcdCluster;
  let cluster: Cluster;
  let ha: HaFleet | undefined;

  beforeAll(async () => {
    [etcd, cluster] = await Promise.all([startEtcd({ id: 79 }), startCluster({ id: 65 })]);
  });
  afterAll(async () => {
    await ha?.destroy();
    await Promise.all([etcd?.destroy(), cluster?.destroy()]);
  });

  const mapped = (fleet: HaFleet) => Promise.all(fleet.agents.map(async (a) => addressIn(await readFile(a.hostsFile, 'utf8'), HOSTNAME)));
  const agentsOn = (fleet: HaFleet, server: Server, timeoutMs = 15_000) =>
    waitFor(async () => (await mapped(fleet)).every((address) => address === server.address), timeoutMs, `every agent on ${server.name}`);

  it('the leader lists every agent, and a switchover on it waits for all four', async () => {
    const fleet = new HaFleet(await HaFleet.makeDir('pullover-fleet-'));
    ha = fleet;
    const replFile = join(fleet.dir, 'repl.password');
    await writeFile(replFile, `${cluster.repl.password}\n`);
    await fleet.configureControllers(
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
        servers: cluster.servers.map((s, i) => ({
          name: s.name,
          address: s.address,
          ...(i === 1 ? { candidate: true } : {}),
        })),
        clusterExtra: '    monitor: { interval: 500ms }\n',
      },
      { endpoints: etcd.endpoints, prefix: `/fleet-${Date.now()}/`, leaseTtl: `${TTL_MS / 1000}s`, retryTimeout: '1s' },
      3,
    );
    await Promise.all([0, 1, 2].map((i) => fleet.startControllerAt(i)));
    for (let i = 1; i <= 4; i++) {
      const agent = await fleet.writeAgent(`app${i}`, {
        hosts: ORIGINAL_HOSTS,
        extra: 'check_interval: 1s\nbackoff: { min: 100ms, max: 500ms }\n',
        controllers: [fleet.urls[(i - 1) % 3] as string],
      });
      await fleet.startAgent(agent);
    }
    await agentsOn(fleet, cluster.master);
    const leader = await fleet.waitLeader(10_000);
    fleet.use(leader.index);
    const status = async () => (await (await fleet.adminRequest('GET', '/v1/status')).json()) as Status;
    await waitFor(async () => (await status()).agents_total === 4, 5000, 'the leader to list all four agents');
    expect((await status()).agents.map((a) => a.name)).toEqual(['app1', 'app2', 'app3', 'app4']);

    const started = Date.now();
    const answer = await fleet.adminRequest('POST', '/v1/clusters/myservice/switchover', { to: 'mysql2' });
    const switched = (await answer.json()) as SwitchoverResponse;
    expect({ status: answer.status, outcome: switched.outcome }).toEqual({ status: 200, outcome: 'done' });
    const applied = switched.steps.find((s) => s.name === 'agents-applied')?.detail ?? '';
    expect(applied).toMatch(new RegExp(`^4 of 4 live agent\\(s\\) applied version ${switched.version}`));
    await agentsOn(fleet, cluster.servers[1]!);
    const after = await status();
    expect({ current: after.agents_current, total: after.agents_total }).toEqual({ current: 4, total: 4 });
    console.log(`switchover on ${leader.name}, whose own agents are ${[1, 2, 3, 4].filter((i) => (i - 1) % 3 === leader.index).map((i) => `app${i}`).join(', ') || 'none'}: ${applied} (${Date.now() - started} ms in all)`);
  }, 90_000);
});
