import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FailoverRecord, SetWritableResponse } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import {
  failoverHistory,
  realCluster,
  resolvedBy,
  startFailoverFleet,
  waitAgentsOn,
  waitFailoversFiled,
} from './support/failover-fleet.js';
import { type Fleet, HOSTNAME } from './support/fleet.js';
import { type Cluster, HostnameWriter, type Server, waitFor } from './support/mariadb.js';
import { eventually } from './support/processes.js';

// The failover's invariants under partial faults, on real MariaDB: each case is a partial failure a user
// met, and what the cluster must look like afterwards (which server is writable, where the hostname
// points, what history and status say).

async function health(fleet: Fleet): Promise<string | undefined> {
  return (await fleet.status()).clusters[0]?.health?.state;
}

async function metric(fleet: Fleet, name: string): Promise<string | undefined> {
  const text = await (await fleet.fetch('/metrics')).text();
  return new RegExp(`^${name}\\{cluster="myservice"\\} (\\S+)$`, 'm').exec(text)?.[1];
}

async function setWritable(fleet: Fleet): Promise<SetWritableResponse> {
  return (await (await fleet.api('POST', '/v1/clusters/myservice/set-writable', {})).json()) as SetWritableResponse;
}

/** Writes through the hostname, SIGKILLs the master, waits for every agent on `next`: the acknowledged writes `next` lacks. */
async function killedUnderWrites(fleet: Fleet, cluster: Cluster, next: Server): Promise<number[]> {
  const [master] = cluster.servers as [Server];
  const hostsFile = fleet.agents[0]!.hostsFile;
  const writer = new HostnameWriter({ hostsFile, hostname: HOSTNAME, port: master.port, login: cluster.app });
  writer.start();
  await waitFor(() => writer.acknowledged.length >= 30, 10_000, `writes on ${master.name}`);
  await master.kill('SIGKILL');
  await waitAgentsOn(fleet, next, 15_000);
  await writer.stop();
  return writer.missingOn(next);
}

async function writableNames(cluster: Cluster): Promise<string[]> {
  return (await cluster.writableServers()).map((s) => s.name);
}

describe('failover invariants on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  let fleet: Fleet | undefined;
  realCluster(28, (c) => {
    cluster = c;
    [mysql1, mysql2, mysql3] = c.servers as [Server, Server, Server];
  });

  it('a candidate whose SQL thread was stopped by hand is passed over: the healthy replica takes over at once, nothing lost', async () => {
    fleet = await startFailoverFleet(cluster);
    await mysql2.query('STOP SLAVE SQL_THREAD');
    expect(await killedUnderWrites(fleet, cluster, mysql3)).toEqual([]);
    expect(await writableNames(cluster)).toEqual(['mysql3']);
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record).toMatchObject({ outcome: 'done', new_master: 'mysql3' });
    expect(record?.steps.find((s) => s.name === 'confirmed')?.detail).toMatch(/promote mysql3 \(most advanced eligible replica/);
    // The stopped copy is repointed but stays as the operator left it: applying nothing.
    expect((await mysql2.slaveStatus())?.Master_Host).toBe(mysql3.address);
    // Semi-sync as a master follows the role: on where writes are taken, off on the replica (with
    // wait_no_slave ON, MariaDB's SQL thread would wait for acknowledgements nobody sends).
    expect([await mysql3.variable('rpl_semi_sync_master_enabled'), await mysql2.variable('rpl_semi_sync_master_enabled')]).toEqual(['1', '0']);
  });

  it('a delayed candidate (MASTER_DELAY) is passed over; a writable replica is made read_only before it is repointed', async () => {
    fleet = await startFailoverFleet(cluster);
    for (const sql of ['STOP SLAVE', 'CHANGE MASTER TO MASTER_DELAY=30', 'START SLAVE', 'SET GLOBAL read_only=OFF']) await mysql2.query(sql);
    expect(await killedUnderWrites(fleet, cluster, mysql3)).toEqual([]);
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record).toMatchObject({ outcome: 'done', new_master: 'mysql3' });
    expect(record?.steps.find((s) => s.name === 'confirmed')?.detail).toMatch(/promote mysql3/);
    // Never two writable servers: the delayed copy took no write, and replicates read-only from mysql3.
    expect(await writableNames(cluster)).toEqual(['mysql3']);
    expect(await mysql2.variable('read_only')).toBe('1');
    expect((await mysql2.slaveStatus())?.Master_Host).toBe(mysql3.address);
  });

  it('a master restarted under pause comes back read_only: a named state, and with restart_recovery: auto it is writable again after resume', async () => {
    fleet = await startFailoverFleet(cluster, { clusterExtra: '    restart_recovery: auto\n' });
    expect((await fleet.admin(['pause', '--cluster', 'myservice', '--for', '10m'])).code).toBe(0);
    await mysql1.restart();
    await waitFor(async () => (await health(fleet!)) === 'master-read-only', 10_000, 'the master-read-only state');
    const sentence = (await fleet.status()).clusters[0]?.health?.sentence;
    expect(sentence).toMatch(/mysql1 answers but is read_only: no server takes writes/);
    expect(await metric(fleet, 'pullover_master_read_only')).toBe('1');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await writableNames(cluster)).toEqual([]);
    const log = await fleet.controller?.log();
    expect(log).toMatch(/automatic failover is paused until \S+, so it is not made writable automatically/);

    expect((await fleet.admin(['resume', '--cluster', 'myservice'])).code).toBe(0);
    await waitFor(async () => (await writableNames(cluster)).join() === 'mysql1', 10_000, 'mysql1 writable again');
    await waitFor(async () => (await health(fleet!)) === 'master-alive', 10_000, 'master-alive');
    expect(await metric(fleet, 'pullover_master_read_only')).toBe('0');
    expect(await failoverHistory(fleet)).toEqual([]);
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);
  });

  it('set-writable is refused while a replica cannot be checked, and then makes the restarted master writable for good', async () => {
    fleet = await startFailoverFleet(cluster);
    // Paused while mysqld restarts (or its absence would be a failover); resumed, it stays read_only.
    expect((await fleet.admin(['pause', '--cluster', 'myservice', '--for', '10m'])).code).toBe(0);
    await mysql1.restart();
    await waitFor(async () => (await health(fleet!)) === 'master-read-only', 10_000, 'the master-read-only state');
    expect((await fleet.admin(['resume', '--cluster', 'myservice'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await health(fleet)).toBe('master-read-only');
    await mysql3.kill('SIGKILL');
    const refused = await fleet.admin(['set-writable', '--cluster', 'myservice']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^myservice: mysql1 REFUSED: mysql3 does not answer /);
    expect(refused.stdout).toMatch(/: it may hold a write mysql1 lacks/);
    expect(await writableNames(cluster)).toEqual([]);

    await mysql3.start();
    expect((await setWritable(fleet)).outcome).toBe('writable');
    // Nothing undoes it: the master is not on the fenced list.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await writableNames(cluster)).toEqual(['mysql1']);
    expect((await fleet.status()).clusters[0]?.servers.find((s) => s.name === 'mysql1')?.fenced).toBe(false);
  });

  it('a fence_command that fails stops the failover of a hung master; the thawed master is not kept fenced, and --force goes on', async () => {
    fleet = await startFailoverFleet(cluster, {
      clusterExtra: '    failover: { auto: false, fence_command: "echo power-off refused >&2; exit 3" }\n',
    });
    const failover = async (body: object) =>
      (await (await fleet!.api('POST', '/v1/clusters/myservice/failover', body)).json()) as FailoverRecord;
    mysql1.pause();
    await waitFor(async () => (await health(fleet!)) !== 'master-alive', 10_000, 'the controller to lose mysql1');
    const failed = await failover({});
    expect(failed).toMatchObject({ outcome: 'failed', new_master: 'mysql2' });
    expect(failed.error).toMatch(/^fence_command failed, so mysql1 may still take writes: make sure it is down /);
    expect(failed.error).toMatch(/then run pullover-controller failover --cluster myservice --force$/);
    expect(failed.steps.find((s) => s.name === 'fenced')).toMatchObject({ failed: true });
    expect(failed.steps.map((s) => s.name)).not.toContain('promoted');
    expect(await writableNames(cluster)).toEqual([]);
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);

    // Thawed, the master ran the fence queued for it; an operator makes it writable, and it stays so.
    mysql1.resume();
    await waitFor(async () => (await health(fleet!)) === 'master-read-only', 10_000, 'the master-read-only state');
    expect((await setWritable(fleet)).outcome).toBe('writable');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await writableNames(cluster)).toEqual(['mysql1']);

    // Frozen again; this time the operator vouches that it is down.
    mysql1.pause();
    await waitFor(async () => (await health(fleet!)) !== 'master-alive', 10_000, 'the controller to lose mysql1');
    const forced = await fleet.admin(['failover', '--cluster', 'myservice', '--force', '--reason', 'powered off by hand']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/mysql1 → mysql2, done/);
    const fenced = (await failoverHistory(fleet)).at(-1)?.steps.find((s) => s.name === 'fenced');
    expect(fenced?.detail).toMatch(/going on: forced by the operator/);
    await waitAgentsOn(fleet, mysql2);
    mysql1.resume();
    await eventually(async () => (await mysql1.variable('read_only')) === '1', 10_000, 'mysql1 fenced on thaw');
    expect(await writableNames(cluster)).toEqual(['mysql2']);
  });

  it('a fence_command that fails does not stop the failover when the host refused the connection: no mysqld runs there', async () => {
    fleet = await startFailoverFleet(cluster, { clusterExtra: '    failover: { fence_command: "exit 3" }\n' });
    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record?.outcome).toBe('done');
    expect(record?.steps.find((s) => s.name === 'fenced')?.detail).toMatch(/fence_command failed \(exit 3\).*going on: mysql1's host refused the connection/);
  });

  it('a failover journaled by a controller that died is cancelled when the old master answers again before anything was promoted', async () => {
    const marker = join(cluster.dir, 'before-hook-ran');
    fleet = await startFailoverFleet(cluster, {
      clusterExtra: `    failover: { command_timeout: 3s, hooks: { before: "echo run >> ${marker}; sleep 2" } }\n`,
    });
    await mysql1.kill('SIGKILL');
    await eventually(() => existsSync(marker), 10_000, 'the failover to start');
    await fleet.controller?.kill('SIGKILL');
    await mysql1.start();
    await fleet.startController();
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record).toMatchObject({ outcome: 'cancelled', old_master: 'mysql1' });
    expect(record?.error).toMatch(/mysql1 answered again before mysql2 was promoted: failover cancelled/);
    await waitFor(async () => (await writableNames(cluster)).join() === 'mysql1', 10_000, 'mysql1 writable again');
    for (const replica of [mysql2, mysql3]) {
      await waitFor(async () => {
        const st = await replica.slaveStatus();
        return st?.Master_Host === mysql1.address && st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
      }, 10_000, `${replica.name} replicating from mysql1`);
    }
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);
    expect((await fleet.status()).version).toBe(1);
  });

  it('a replica that cannot be repointed is a failed step in history, status and metrics', async () => {
    fleet = await startFailoverFleet(cluster);
    await mysql3.kill('SIGKILL');
    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record?.outcome).toBe('done');
    const repointed = record?.steps.find((s) => s.name === 'repointed');
    expect(repointed).toMatchObject({ failed: true });
    expect(repointed?.detail).toMatch(/mysql3 NOT repointed .*pullover-controller rejoin --cluster myservice mysql3/);
    const status = await fleet.status();
    expect(status.clusters[0]?.failover.failed_steps?.join()).toMatch(/^repointed: mysql3 NOT repointed/);
    expect(await metric(fleet, 'pullover_last_failover_failed_steps')).toBe('1');
  });

  it('a hung master that thaws during its failover loses nothing acknowledged: the new master gets what it executed', async () => {
    const marker = join(cluster.dir, 'thaw-now');
    fleet = await startFailoverFleet(cluster, {
      clusterExtra: `    failover: { command_timeout: 5s, hooks: { before: "touch ${marker}; sleep 1" } }\n`,
    });
    const hostsFile = fleet.agents[0]!.hostsFile;
    const writer = new HostnameWriter({ hostsFile, hostname: HOSTNAME, port: mysql1.port, login: cluster.app });
    writer.start();
    await waitFor(() => writer.acknowledged.length >= 30, 10_000, 'writes on mysql1');
    mysql1.pause();
    await eventually(() => existsSync(marker), 30_000, 'the failover to start');
    // Thawed while the failover runs: held commits complete, replicas reconnect and receive them.
    mysql1.resume();
    await waitAgentsOn(fleet, mysql2, 30_000);
    await waitFor(() => writer.acknowledged.some((w) => w.address === mysql2.address), 10_000, 'writes on mysql2');
    await writer.stop();
    expect(await writer.missingOn(mysql2)).toEqual([]);
    expect(await writableNames(cluster)).toEqual(['mysql2']);
    const [record] = await waitFailoversFiled(fleet, 1);
    expect(record?.outcome).toBe('done');
    expect(record?.steps.find((s) => s.name === 'repointed')?.failed).toBeUndefined();
    await waitFor(async () => {
      const st = await mysql3.slaveStatus();
      return st?.Master_Host === mysql2.address && st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
    }, 10_000, 'mysql3 replicating from mysql2');
  });
});
