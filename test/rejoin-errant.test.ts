import { describe, expect, it } from 'vitest';
import { realCluster, rowIds, startFailoverFleet, waitAgentsOn, waitFailoversFiled } from './support/failover-fleet.js';
import { type Cluster, type Server, waitFor } from './support/mariadb.js';

// A user's report on real MariaDB: the old master's unreplicated tail, overtaken in sequence numbers
// by the new master, was rejoined as if it were contained. Only a comparison per domain and
// originating server (gtid_binlog_state) sees it.

describe('rejoin of a former master with an unreplicated tail on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  realCluster(27, (c) => {
    cluster = c;
    [mysql1, mysql2, mysql3] = c.servers as [Server, Server, Server];
  });

  const insert = (s: Server, v: string) => s.query('INSERT INTO app.writes (v) VALUES (?)', [v], { as: 'app' });

  it('refused, the tail named by server and seq, although the new master is further on', async () => {
    const fleet = await startFailoverFleet(cluster);
    // Replicas stop receiving: mysql1's semi-sync falls back to async and acknowledges alone.
    await Promise.all([mysql2, mysql3].map((s) => s.query('STOP SLAVE IO_THREAD')));
    const shared = await mysql1.variable('gtid_binlog_pos');
    const tail = 3;
    for (let i = 0; i < tail; i++) await insert(mysql1, `tail ${i}`);
    await mysql1.kill('SIGKILL');
    // Restarted IO threads find mysql1 dead: the witnesses the detector needs to confirm.
    await Promise.all([mysql2, mysql3].map((s) => s.query('START SLAVE IO_THREAD')));
    await waitAgentsOn(fleet, mysql2);
    await waitFailoversFiled(fleet, 1);

    for (let i = 0; i < 2 * tail; i++) await insert(mysql2, `after ${i}`);
    const onMysql2 = await rowIds(mysql2);
    const seq = (gtid: string) => Number(gtid.split('-')[2]);
    expect(seq(await mysql2.variable('gtid_current_pos'))).toBeGreaterThan(seq(shared) + tail);

    await mysql1.start();
    const cli = await fleet.admin(['rejoin', '--cluster', 'myservice', 'mysql1']);
    const first = seq(shared) + 1;
    const errant = `domain 0 server 1 seq ${first}..${first + tail - 1}`;
    expect([cli.code, cli.stdout]).toEqual([1, expect.stringContaining(`myservice: REFUSED: mysql1 has transactions mysql2 lacks (${errant}); it stays read_only and fenced`)]);
    expect(await mysql1.variable('read_only')).toBe('1');
    expect(await mysql1.slaveStatus()).toBeUndefined();
    expect((await fleet.status()).clusters[0]?.servers.find((s) => s.name === 'mysql1')?.fenced).toBe(true);
    expect(await rowIds(mysql2)).toEqual(onMysql2);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    await waitFor(async () => (await rowIds(mysql3)).size === onMysql2.size, 10_000, 'mysql3 to follow mysql2');
  });
});
