import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FailoverRecord, Status } from '@pullover/protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Fleet } from './support/fleet.js';
import { type Cluster, type Server, startCluster, waitFor } from './support/mariadb.js';
import { WritablePoller, Writer } from './support/writer.js';

const CLUSTER_ID = 21;

async function history(fleet: Fleet): Promise<FailoverRecord[]> {
  const response = await fleet.api('GET', '/v1/history');
  return ((await response.json()) as { failovers: FailoverRecord[] }).failovers;
}

async function ids(s: Server): Promise<Set<number>> {
  const rows = await s.query<{ id: number }[]>('SELECT id FROM app.writes');
  return new Set(rows.map((r) => Number(r.id)));
}

describe('automatic failover on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  let fleet: Fleet;
  let replFile: string;

  beforeAll(async () => {
    cluster = await startCluster({ id: CLUSTER_ID });
    [mysql1, mysql2, mysql3] = cluster.servers as [Server, Server, Server];
    replFile = join(cluster.dir, 'repl.password');
    await writeFile(replFile, `${cluster.repl.password}\n`);
  });
  afterAll(() => cluster?.destroy());
  beforeEach(() => cluster.reset());
  afterEach(() => fleet?.destroy());

  async function startFleet(opts: { clusterExtra?: string; servers?: { name: string; candidate?: boolean; no_master?: boolean }[] } = {}) {
    fleet = await Fleet.create({
      agents: 2,
      mysql: {
        port: mysql1.port,
        user: cluster.admin.user,
        password_file: cluster.admin.passwordFile,
        replication_user: cluster.repl.user,
        replication_password_file: replFile,
      },
      servers: (opts.servers ?? [{ name: 'mysql1' }, { name: 'mysql2', candidate: true }, { name: 'mysql3' }]).map((s) => ({
        ...s,
        address: cluster.server(s.name).address,
      })),
      clusterExtra: opts.clusterExtra ?? '',
    });
    await fleet.startController();
    for (const agent of fleet.agents) await fleet.startAgent(agent);
    await waitFor(
      async () => (await Promise.all(fleet.agents.map((a) => fleet.resolve(a)))).every((a) => a === mysql1.address),
      10_000,
      'agents to map the hostname to mysql1',
    );
  }

  const resolved = () => Promise.all(fleet.agents.map((a) => fleet.resolve(a)));

  it('SIGKILL of the master under writes: mysql2 takes over, agents follow, no acknowledged write lost, never two writable', async () => {
    await startFleet();
    const writer = new Writer(fleet.agents[0]!.hostsFile, mysql1.port, cluster.app);
    const poller = new WritablePoller(cluster.servers);
    writer.start();
    poller.start();
    await waitFor(() => writer.acks.length >= 50, 10_000, 'writes on mysql1');

    await mysql1.kill('SIGKILL');
    await waitFor(async () => (await resolved()).every((a) => a === mysql2.address), 20_000, 'agents to follow mysql2');
    await waitFor(() => writer.acksAt(mysql2.address).length >= 20, 10_000, 'writes on mysql2');
    await writer.stop();
    await poller.stop();

    // Every write the application saw acknowledged is on the new master, and on the repointed replica.
    const onMysql2 = await ids(mysql2);
    const lost = writer.acks.filter((a) => !onMysql2.has(a.id)).map((a) => a.id);
    expect(lost).toEqual([]);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    expect(poller.twoWritable).toEqual([]);
    expect(poller.samples).toBeGreaterThan(5);
    const st = await mysql3.slaveStatus();
    expect([st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([mysql2.address, 'Yes', 'Yes']);
    await waitFor(async () => (await ids(mysql3)).size === onMysql2.size, 10_000, 'mysql3 to replicate from mysql2');

    const [record] = await history(fleet);
    console.log(JSON.stringify(record, null, 1));
    expect(record).toMatchObject({ outcome: 'done', old_master: 'mysql1', new_master: 'mysql2', trigger: 'auto' });
    expect(record?.steps.map((s) => s.name)).toEqual([
      'detected', 'confirmed', 'fenced', 'caught-up', 'promoted', 'repointed', 'published', 'agents-applied',
    ]);
    expect(record?.steps.at(-1)?.detail).toMatch(/^2 of 2 live agent\(s\) applied/);
    const status: Status = await fleet.status();
    expect(status.clusters[0]).toMatchObject({ master: 'mysql2', failover: { running: false } });
    expect(status.clusters[0]?.failover.blocked_until).not.toBeNull();
  });
});
