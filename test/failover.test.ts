import { describe, expect, it } from 'vitest';
import {
  failoverHistory,
  realCluster,
  resolvedBy,
  rowIds,
  STEPS,
  startFailoverFleet,
  waitAgentsOn,
  waitFailoversFiled,
} from './support/failover-fleet.js';
import { type Fleet, HOSTNAME } from './support/fleet.js';
import { type Cluster, HostnameWriter, type Server, waitFor } from './support/mariadb.js';
import { WritablePoller } from './support/writable-poller.js';

describe('automatic failover on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  let fleet: Fleet | undefined;
  realCluster(21, (c) => {
    cluster = c;
    [mysql1, mysql2, mysql3] = c.servers as [Server, Server, Server];
  });

  it('SIGKILL of the master under writes: mysql2 takes over, agents follow, no acknowledged write lost, never two writable', async () => {
    fleet = await startFailoverFleet(cluster);
    const hostsFile = fleet.agents[0]!.hostsFile;
    const writer = new HostnameWriter({ hostsFile, hostname: HOSTNAME, port: mysql1.port, login: cluster.app });
    const onNewMaster = () => writer.acknowledged.filter((w) => w.address === mysql2.address).length;
    const poller = new WritablePoller(cluster.servers);
    writer.start();
    poller.start();
    await waitFor(() => writer.acknowledged.length >= 50, 10_000, 'writes on mysql1');

    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    await waitFor(() => onNewMaster() >= 20, 10_000, 'writes on mysql2');
    await writer.stop();
    await poller.stop();

    // Every write the application saw acknowledged is on the new master, and on the repointed replica.
    expect(await writer.missingOn(mysql2)).toEqual([]);
    const onMysql2 = await rowIds(mysql2);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    expect(poller.twoWritable).toEqual([]);
    expect(poller.samples).toBeGreaterThan(5);
    const st = await mysql3.slaveStatus();
    expect([st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([mysql2.address, 'Yes', 'Yes']);
    await waitFor(async () => (await rowIds(mysql3)).size === onMysql2.size, 10_000, 'mysql3 to replicate from mysql2');

    const [record] = await failoverHistory(fleet);
    expect(record).toMatchObject({ outcome: 'done', old_master: 'mysql1', new_master: 'mysql2', trigger: 'auto' });
    expect(record?.steps.map((s) => s.name)).toEqual(STEPS);
    expect(record?.steps.at(-1)?.detail).toMatch(/^2 of 2 live agent\(s\) applied/);
    const status = await fleet.status();
    expect(status.clusters[0]).toMatchObject({ master: 'mysql2', failover: { running: false } });
    expect(status.clusters[0]?.failover.blocked_until).not.toBeNull();

    // The same story in Prometheus terms, once the controller has looked at the new master.
    const c = 'cluster="myservice"';
    await waitFor(async () => (await (await fleet!.fetch('/metrics')).text()).includes(`pullover_master_up{${c}} 1`), 5000, 'master up');
    const metrics = await (await fleet.fetch('/metrics')).text();
    for (const line of [
      `pullover_failovers_total{${c},outcome="done"} 1`,
      `pullover_failovers_total{${c},outcome="failed"} 0`,
      `pullover_failover_blocked{${c}} 1`,
      `pullover_failover_running{${c}} 0`,
      `pullover_server_read_only{${c},server="mysql2"} 0`,
      `pullover_server_read_only{${c},server="mysql3"} 1`,
      `pullover_server_up{${c},server="mysql1"} 0`,
      'pullover_agents_lagging 0',
    ]) expect(metrics).toContain(`\n${line}\n`);
    expect(metrics).toMatch(new RegExp(`\\npullover_last_failover_step_seconds\\{${c},step="promoted"\\} [0-9.]+\\n`));
  });

  it.each(['select', 'insert'] as const)('with ping: %s, a killed master is failed over too', async (ping) => {
    fleet = await startFailoverFleet(cluster, { clusterExtra: `    monitor: { ping: ${ping} }\n` });
    if (ping === 'insert') {
      // The heartbeat is a real write: it reaches the replicas like any other.
      await waitFor(async () => {
        const rows = await mysql3.query<unknown[]>('SELECT at FROM pullover.heartbeat').catch(() => []);
        return rows.length === 1;
      }, 5000, 'the heartbeat row on mysql3');
    }
    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
  });

  it('a hung master (SIGSTOP) is failed over; when it wakes up it is read-only and its clients are gone', async () => {
    fleet = await startFailoverFleet(cluster);
    // A pooled application connection opened before the freeze: it must not write after the thaw.
    const pooled = await mysql1.connect({ as: 'app' });
    await pooled.query('INSERT INTO app.writes (v) VALUES (?)', ['before']);

    mysql1.pause();
    await waitAgentsOn(fleet, mysql2, 30_000);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    // STOP SLAVE waits out IO threads stuck on the frozen master: slow, but it must not fail the failover.
    await waitFor(async () => (await failoverHistory(fleet!))[0]?.outcome === 'done', 15_000, 'the record');
    const [record] = await failoverHistory(fleet);
    expect(record?.steps.find((s) => s.name === 'repointed')?.detail).toBe('mysql3 repointed');
    expect((await mysql3.slaveStatus())?.Master_Host).toBe(mysql2.address);

    mysql1.resume();
    await waitFor(async () => (await mysql1.variable('read_only')) === '1', 5000, 'mysql1 to be fenced');
    // The fence was waiting in the socket the controller kept open to it.
    await waitFor(async () => /mysql1 woke up and ran the fence queued for it/.test((await fleet!.controller?.log()) ?? ''), 5000, 'the queued fence');
    await expect(pooled.query('INSERT INTO app.writes (v) VALUES (?)', ['after'])).rejects.toThrow();
    pooled.destroy();
    await expect(mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['fresh'], { as: 'app' })).rejects.toThrow(/read-only/);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    expect(record?.reason).toMatch(/timed out/);
    expect(await failoverHistory(fleet)).toHaveLength(1);
  });

  it('promotes the candidate even when another replica is further ahead, after it catches up: nothing acknowledged is lost', async () => {
    fleet = await startFailoverFleet(cluster);
    // mysql2 stops receiving; the writes below are acknowledged by mysql3 alone (semi-sync).
    await mysql2.query('STOP SLAVE IO_THREAD');
    for (let i = 0; i < 20; i++) await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', [`only-on-mysql3-${i}`], { as: 'app' });
    const acked = await rowIds(mysql1);
    await waitFor(async () => (await rowIds(mysql3)).size === acked.size, 5000, 'mysql3 to apply');
    expect((await rowIds(mysql2)).size).toBeLessThan(acked.size);

    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    const onMysql2 = await rowIds(mysql2);
    expect([...acked].filter((id) => !onMysql2.has(id))).toEqual([]);
    const [record] = await failoverHistory(fleet);
    expect(record?.steps.find((s) => s.name === 'caught-up')?.detail).toMatch(/; mysql2 caught up from mysql3 to /);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    expect((await mysql3.slaveStatus())?.Master_Host).toBe(mysql2.address);
  });

  it('a second master death within min_interval waits for ack, then fails over', async () => {
    fleet = await startFailoverFleet(cluster);
    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    await waitFailoversFiled(fleet, 1);

    await mysql2.kill('SIGKILL');
    await waitFor(
      async () => (await fleet!.status()).clusters[0]?.health?.state === 'master-dead',
      10_000,
      'mysql2 to be found dead',
    );
    const said = /automatic failover is blocked until .*pullover-controller ack --cluster myservice/;
    await waitFor(async () => said.test((await fleet!.controller?.log()) ?? ''), 10_000, 'the controller to say why');
    await new Promise((r) => setTimeout(r, 1000));
    const blocked = (await fleet.status()).clusters[0];
    expect(blocked).toMatchObject({ master: 'mysql2', health: { state: 'master-dead' } });
    expect(blocked?.failover.blocked_until).not.toBeNull();
    expect(await resolvedBy(fleet)).toEqual([mysql2.address, mysql2.address]);
    expect(await failoverHistory(fleet)).toHaveLength(1);

    const ack = await fleet.admin(['ack', '--cluster', 'myservice']);
    expect(ack.code).toBe(0);
    expect(ack.stdout).toMatch(/automatic failover armed again/);
    await waitAgentsOn(fleet, mysql3);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql3']);
    const history = await fleet.admin(['history']);
    expect(history.stdout).toMatch(/mysql1 → mysql2, done/);
    expect(history.stdout).toMatch(/mysql2 → mysql3, done/);
  });
});
