import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Cluster, NetnsLayout, PacketDrop, type Server, startCluster, waitFor } from '@pullover/sandbox';

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

// Every server a host of its own: what a black hole or a partition needs to look real.
describe('the MariaDB harness on the netns layout', () => {
  let cluster: Cluster;
  let drop: PacketDrop;

  beforeAll(async () => {
    cluster = await startCluster({ id: 40, network: 'netns' });
    drop = new PacketDrop(cluster.network as NetnsLayout);
  });
  afterAll(() => cluster?.destroy());
  beforeEach(() => cluster.reset());
  afterEach(() => drop.heal());

  it('runs every mariadbd in a namespace of its own, on 10.200.<id>.<n>, replicating across the bridge', async () => {
    const own = readlinkSync('/proc/self/ns/net');
    const namespaces = cluster.servers.map((s) => readlinkSync(`/proc/${s.pid}/ns/net`));
    expect(new Set([own, ...namespaces]).size).toBe(4);
    expect(cluster.servers.map((s) => s.address)).toEqual(['10.200.40.1', '10.200.40.2', '10.200.40.3']);
    // The grants hold for clients arriving from the bridge, and replicas reach the master by its address.
    const [row] = await cluster.master.query<{ u: string }[]>('SELECT USER() AS u', [], { as: 'app' });
    expect(row?.u).toBe(`${cluster.app.user}@10.200.40.254`);
    await insert(cluster.master, 'across');
    await cluster.waitReplicasCaughtUp();
    for (const s of cluster.replicas) {
      expect((await s.slaveStatus())?.Master_Host).toBe('10.200.40.1');
      expect(await count(s)).toBe(1);
    }
  });

  it('black-holes a server: a connect hangs, an open session goes silent, nothing is refused; heal() restores both', async () => {
    const { master } = cluster;
    const session = await master.connect();
    drop.blackhole(master.address);
    const started = performance.now();
    const connect = await master.query('SELECT 1', [], { connectTimeoutMs: 1000 }).catch((err: Error) => err);
    expect(String(connect)).toMatch(/ETIMEDOUT/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    const silent = await session.query({ sql: 'SELECT 1', timeout: 1000 }).catch((err: Error) => err);
    expect(String(silent)).toMatch(/timeout/i);
    session.destroy();
    // The others still answer.
    expect(await cluster.replicas[0]?.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    drop.heal();
    expect(await master.query('SELECT 1 AS one', [], { connectTimeoutMs: 1000 })).toEqual([{ one: 1 }]);
  });

  it('an open connection survives a short black hole: what was sent during it is answered after heal()', async () => {
    const session = await cluster.master.connect();
    try {
      drop.blackhole(cluster.master.address);
      const answer = session.query({ sql: 'SELECT 2 AS two', timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 1500));
      drop.heal();
      expect((await answer)[0]).toEqual([{ two: 2 }]);
    } finally {
      await session.end();
    }
  });

  it('partitions address sets: the master and an app address on one side, the replicas and the root address on the other', async () => {
    const { master } = cluster;
    const network = cluster.network as NetnsLayout;
    const [app, observer] = network.spareAddresses as [string, string];
    drop.partition([master.address, app], [network.rootAddress, ...cluster.replicas.map((s) => s.address)]);
    // The app side still writes; nothing reaches the replicas, and the controller's side sees a silent master.
    await master.query('INSERT INTO app.writes (v) VALUES (?)', ['cut'], { as: 'app', localAddress: app });
    const silent = await master.query('SELECT 1', [], { connectTimeoutMs: 500 }).catch((err: Error) => err);
    expect(String(silent)).toMatch(/ETIMEDOUT/);
    await expect(cluster.replicas[0]!.query('SELECT 1', [], { localAddress: app, connectTimeoutMs: 500 })).rejects.toThrow(/ETIMEDOUT/);
    // An address on neither side reaches everyone.
    expect(await master.query('SELECT 1 AS one', [], { localAddress: observer })).toEqual([{ one: 1 }]);
    await new Promise((r) => setTimeout(r, 500));
    for (const s of cluster.replicas) expect(await count(s)).toBe(0);
    drop.heal();
    await cluster.waitReplicasCaughtUp();
    for (const s of cluster.replicas) expect(await count(s)).toBe(1);
  });
});

describe('the netns layout leaves nothing behind', () => {
  const ID = 41;
  const layout = new NetnsLayout(ID);
  const leftovers = () => ({
    namespaces: [1, 2, 3].filter((n) => existsSync(`/run/netns/${layout.namespace(n)}`)),
    links: [layout.bridge, layout.dropDevice, ...[1, 2, 3].map((n) => layout.port(n))].filter((d) => existsSync(`/sys/class/net/${d}`)),
  });
  const none = { namespaces: [], links: [] };
  // A process that starts a netns cluster, says so, and waits to be killed.
  const child = () => spawn(process.execPath, ['--input-type=module', '-e', `
    import { startCluster } from '@pullover/sandbox';
    const cluster = await startCluster({ id: ${ID}, network: 'netns' });
    console.log(cluster.servers.map((s) => s.pid).join(' '));
    setInterval(() => {}, 1000);
  `], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  const started = async (proc: ChildProcess): Promise<number[]> => {
    const [line] = (await once(proc.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    return String(line).trim().split(' ').map(Number);
  };
  const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');

  it('a SIGTERMed process takes its mariadbd, namespaces and links with it', async () => {
    const proc = child();
    const pids = await started(proc);
    expect(leftovers().namespaces).toEqual([1, 2, 3]);
    proc.kill('SIGTERM');
    await once(proc, 'exit');
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, 'its mariadbd to be gone');
    expect(leftovers()).toEqual(none);
  });

  it('what a SIGKILLed process left is removed by the next start of that id, and destroy() removes it all', async () => {
    const proc = child();
    const pids = await started(proc);
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    expect(pids.every(alive)).toBe(true);
    const cluster = await startCluster({ id: ID, network: 'netns' });
    try {
      expect(pids.some(alive)).toBe(false);
      expect(await cluster.master.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await cluster.destroy();
    }
    expect(leftovers()).toEqual(none);
  });
}, 60_000);
