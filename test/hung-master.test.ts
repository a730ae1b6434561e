import { describe, expect, it } from 'vitest';
import { failoverHistory, realCluster, startFailoverFleet, waitAgentsOn, waitFailoversFiled } from './support/failover-fleet.js';
import { type Fleet, HOSTNAME } from './support/fleet.js';
import { type Cluster, HostnameWriter, type Server, waitFor } from './support/mariadb.js';

// A master that hangs rather than dies, on real MariaDB with the replicas at MariaDB's default
// slave_net_timeout (60 s): their IO threads say Yes for a minute after the freeze. What tells
// the controller is their silence (no event, no heartbeat for longer than the heartbeat period).
// And what must never be mistaken for a hang: a short pause, a busy master, a full one.

async function writableNames(cluster: Cluster): Promise<string[]> {
  return (await cluster.writableServers()).map((s) => s.name);
}

/** MariaDB's default slave_net_timeout on every replica, as most installs keep it. */
async function defaultNetTimeout(cluster: Cluster): Promise<void> {
  for (const replica of cluster.replicas) {
    for (const sql of ['STOP SLAVE', 'SET GLOBAL slave_net_timeout=60', 'START SLAVE']) await replica.query(sql);
  }
}

function startWriter(fleet: Fleet, cluster: Cluster): HostnameWriter {
  const hostsFile = fleet.agents[0]!.hostsFile;
  const writer = new HostnameWriter({ hostsFile, hostname: HOSTNAME, port: cluster.master.port, login: cluster.app });
  writer.start();
  return writer;
}

/** Holds for `ms` and checks that nothing was failed over meanwhile: the master, the hostname, the history. */
async function expectNoFailoverFor(fleet: Fleet, cluster: Cluster, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  expect(await failoverHistory(fleet)).toEqual([]);
  expect((await fleet.status()).clusters[0]?.master).toBe('mysql1');
  expect(await writableNames(cluster)).toEqual(['mysql1']);
}

describe('a hung master on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  realCluster(47, (c) => {
    cluster = c;
    [mysql1, mysql2, mysql3] = c.servers as [Server, Server, Server];
  });

  it('frozen under writes, replicas at slave_net_timeout=60: failed over on the replicas\' silence; nothing lost, read_only at the thaw', async () => {
    await defaultNetTimeout(cluster);
    const fleet = await startFailoverFleet(cluster);
    expect((await fleet.api('POST', '/v1/clusters/myservice/replica-heartbeat', {})).status).toBe(200);
    const writer = startWriter(fleet, cluster);
    await waitFor(() => writer.acknowledged.length >= 30, 10_000, 'writes on mysql1');
    mysql1.pause();
    await waitAgentsOn(fleet, mysql2, 20_000);
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record).toMatchObject({ outcome: 'done', new_master: 'mysql2' });
    // Their IO threads still said Yes: the silence is what confirmed it.
    const silent = /mysql2 lost it too \(connected, but nothing from it for \d+\.\d s, heartbeat every 1 s\)/;
    expect(record?.reason).toMatch(silent);
    mysql1.resume();
    await waitFor(async () => (await mysql1.variable('read_only')) === '1', 2000, 'mysql1 read_only at the thaw');
    await writer.stop();
    expect(await writer.missingOn(mysql2)).toEqual([]);
    expect(await writableNames(cluster)).toEqual(['mysql2']);
    // The replica pullover repointed got the heartbeat with it.
    expect((await mysql3.slaveStatus())?.Master_Host).toBe(mysql2.address);
    expect(await mysql3.query('SHOW GLOBAL STATUS LIKE \'Slave_heartbeat_period\'')).toEqual([{ Variable_name: 'Slave_heartbeat_period', Value: '1.000' }]);
  });

  it('short freezes (1.5 s, three times) are not failed over', async () => {
    await defaultNetTimeout(cluster);
    const fleet = await startFailoverFleet(cluster);
    expect((await fleet.api('POST', '/v1/clusters/myservice/replica-heartbeat', {})).status).toBe(200);
    const writer = startWriter(fleet, cluster);
    for (let i = 0; i < 3; i++) {
      mysql1.pause();
      await new Promise((r) => setTimeout(r, 1500));
      mysql1.resume();
      await new Promise((r) => setTimeout(r, 1500));
    }
    await expectNoFailoverFor(fleet, cluster, 2000);
    await writer.stop();
    expect(await writer.missingOn(mysql1)).toEqual([]);
  });

  it('a master busy with a long statement, or whose commits stall (a stuck disk) under ping: select, is not failed over', async () => {
    const fleet = await startFailoverFleet(cluster, { clusterExtra: '    monitor: { ping: select }\n' });
    const busy = await mysql1.connect();
    try {
      const sleeping = busy.query('SELECT SLEEP(5)');
      await expectNoFailoverFor(fleet, cluster, 3000);
      await sleeping;
      // Commits wait behind the global read lock as they would behind a disk that does not answer.
      await busy.query('FLUSH TABLES WITH READ LOCK');
      const stalled = mysql1.connect().then((c) => c.query('INSERT INTO app.writes (v) VALUES (?)', ['stalled']).finally(() => c.end()));
      await expectNoFailoverFor(fleet, cluster, 5000);
      await busy.query('UNLOCK TABLES');
      await stalled;
    } finally {
      await busy.end();
    }
  });

  it('a master at max_connections refuses new logins but is alive: not failed over', async () => {
    const fleet = await startFailoverFleet(cluster);
    // Kept open to undo it: root's extra connection beyond max_connections may be taken meanwhile.
    const root = await mysql1.connect();
    const held: Awaited<ReturnType<Server['connect']>>[] = [];
    // 10 is MariaDB's least; the application's logins fill what is left.
    await root.query('SET GLOBAL max_connections=10');
    try {
      let refused = '';
      while (refused === '' && held.length < 20) {
        await mysql1.connect({ as: 'app' }).then(
          (c) => held.push(c),
          (e: Error) => {
            refused = e.message;
          },
        );
      }
      expect(refused).toMatch(/Too many connections/);
      await expectNoFailoverFor(fleet, cluster, 5000);
    } finally {
      await Promise.all(held.map((c) => c.end()));
      await root.query('SET GLOBAL max_connections=151');
      await root.end();
    }
  });
});
