import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Cluster, type Server, startCluster, waitFor } from '@pullover/sandbox';

const count = async (s: Server): Promise<number> =>
  Number((await s.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.writes'))[0]?.n);

const insert = (s: Server, v: string): Promise<unknown> =>
  s.query('INSERT INTO app.writes (v) VALUES (?)', [v], { as: 'app' });

describe('the MariaDB harness: one master, two GTID replicas on real mariadbd', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;

  beforeAll(async () => {
    cluster = await startCluster({ id: 20 });
    [mysql1, mysql2, mysql3] = cluster.servers as [Server, Server, Server];
  });
  afterAll(() => cluster?.destroy());
  beforeEach(() => cluster.reset());

  it('replicates rows written on mysql1 to mysql2 and mysql3 by GTID', async () => {
    for (const v of ['a', 'b', 'c']) await insert(mysql1, v);
    const gtid = await cluster.waitReplicasCaughtUp();
    expect(gtid).toMatch(/^0-1-\d+$/);
    for (const s of cluster.servers) {
      expect(await count(s)).toBe(3);
      expect(await s.variable('gtid_binlog_pos')).toBe(gtid);
    }
  });

  it('makes only mysql1 writable: the app user cannot write to a replica', async () => {
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    await expect(insert(mysql2, 'x')).rejects.toThrow(/read-only/);
  });

  it('runs semi-sync on the master, and a write is acknowledged well under a second', async () => {
    expect(await mysql1.variable('rpl_semi_sync_master_enabled')).toBe('1');
    const status = async (name: string) =>
      (await mysql1.query<{ Value: string }[]>('SHOW GLOBAL STATUS LIKE ?', [name]))[0]?.Value;
    await waitFor(async () => (await status('Rpl_semi_sync_master_clients')) === '2', 5000, 'two semi-sync replicas');
    const acked = Number(await status('Rpl_semi_sync_master_yes_tx'));
    const started = performance.now();
    await insert(mysql1, 'semi');
    expect(performance.now() - started).toBeLessThan(1000);
    // Acknowledged by a replica, not let through by the timeout.
    expect(Number(await status('Rpl_semi_sync_master_yes_tx'))).toBe(acked + 1);
  });

  it('after SIGKILL of mysql1, the replicas IO threads stop reporting Yes', async () => {
    await mysql1.kill('SIGKILL');
    expect(mysql1.isRunning).toBe(false);
    for (const replica of [mysql2, mysql3]) {
      await waitFor(async () => (await replica.slaveStatus())?.Slave_IO_Running !== 'Yes', 5000, `${replica.name} IO`);
    }
  });

  it('reset() restores the initial topology after kills, pauses, stray writes and stopped replication', async () => {
    await insert(mysql1, 'before');
    await mysql1.kill('SIGKILL');
    await mysql2.query('STOP SLAVE');
    await mysql2.query('INSERT INTO app.writes (v) VALUES (?)', ['stray']); // pullover bypasses read_only
    await mysql2.query('SET GLOBAL read_only=OFF');
    mysql3.pause();

    await cluster.reset();

    expect(cluster.servers.every((s) => s.isRunning && !s.isPaused)).toBe(true);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    for (const replica of [mysql2, mysql3]) {
      const st = await replica.slaveStatus();
      expect([st?.Slave_IO_Running, st?.Slave_SQL_Running, st?.Master_Host]).toEqual(['Yes', 'Yes', mysql1.address]);
    }
    for (const s of cluster.servers) expect(await count(s)).toBe(0);
  });

  it('SIGSTOP makes new connections time out; SIGCONT brings the server back', async () => {
    mysql1.pause();
    const started = performance.now();
    await expect(mysql1.query('SELECT 1', [], { connectTimeoutMs: 500 })).rejects.toThrow(/timeout|ETIMEDOUT/i);
    expect(performance.now() - started).toBeLessThan(2000);
    mysql1.resume();
    expect(await mysql1.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
