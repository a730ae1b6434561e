import type { RejoinResponse, SwitchoverResponse } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import {
  failoverHistory,
  realCluster,
  rowIds,
  startFailoverFleet,
  waitAgentsOn,
  waitFailoversFiled,
} from './support/failover-fleet.js';
import { type Fleet, HOSTNAME } from './support/fleet.js';
import { type Cluster, HostnameWriter, type Server, waitFor } from './support/mariadb.js';

type Answer = SwitchoverResponse & { message?: string };

async function switchover(fleet: Fleet, body: Record<string, unknown>): Promise<{ status: number; body: Answer }> {
  const response = await fleet.api('POST', '/v1/clusters/myservice/switchover', body);
  return { status: response.status, body: (await response.json()) as SwitchoverResponse & { message?: string } };
}

async function rejoin(fleet: Fleet, server: string): Promise<RejoinResponse> {
  return (await (await fleet.api('POST', '/v1/clusters/myservice/rejoin', { server })).json()) as RejoinResponse;
}

describe('switchover and rejoin on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  realCluster(25, (c) => {
    cluster = c;
    [mysql1, mysql2, mysql3] = c.servers as [Server, Server, Server];
  });

  it('under a steady write load: nothing lost, errors only inside the reported window, the old master a healthy replica', async () => {
    const fleet = await startFailoverFleet(cluster);
    const hostsFile = fleet.agents[0]!.hostsFile;
    const writer = new HostnameWriter({ hostsFile, hostname: HOSTNAME, port: mysql1.port, login: cluster.app }).start();
    await waitFor(() => writer.acknowledged.length >= 50, 10_000, 'writes on mysql1');

    const cli = await fleet.admin(['switchover', '--cluster', 'myservice', '--to', 'mysql2']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/switchover mysql1 → mysql2 done, version 2/);
    expect(cli.stderr).toMatch(/^ {2}[\d:.]+ switchover myservice: caught-up in \d+ ms: /m);
    const window = Number(/writes blocked for (\d+) ms/.exec(cli.stdout)?.[1]);
    expect(window).toBeLessThan(1000);
    await waitAgentsOn(fleet, mysql2);
    await waitFor(() => writer.acknowledged.some((w) => w.address === mysql2.address), 10_000, 'writes on mysql2');
    await writer.stop();

    expect(await writer.missingOn(mysql2)).toEqual([]);
    // Every error the application saw falls within one window of the reported length (and the agents' few ms).
    if (writer.failedAt.length > 0) {
      expect(Math.max(...writer.failedAt) - Math.min(...writer.failedAt)).toBeLessThanOrEqual(window + 300);
    }
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    for (const replica of [mysql1, mysql3]) {
      const st = await replica.slaveStatus();
      expect([replica.name, st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([replica.name, mysql2.address, 'Yes', 'Yes']);
    }
    const onMaster = await rowIds(mysql2);
    await waitFor(async () => (await rowIds(mysql1)).size === onMaster.size, 10_000, 'mysql1 to replicate from mysql2');
    expect(await failoverHistory(fleet)).toEqual([]);
  });

  it('a target that cannot catch up in time is rolled back: the old master writable again, the mapping unchanged', async () => {
    const fleet = await startFailoverFleet(cluster);
    await mysql2.query('STOP SLAVE');
    await mysql2.query('CHANGE MASTER TO MASTER_DELAY=30');
    await mysql2.query('START SLAVE');
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['delayed on mysql2'], { as: 'app' });

    const cli = await fleet.admin(['switchover', '--cluster', 'myservice', '--to', 'mysql2', '--max-lag', '1000', '--timeout', '1']);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/switchover mysql1 → mysql2 rolled-back/);
    expect(cli.stdout).toMatch(/mysql2 did not reach 0-1-\d+ within 1 s: mysql1 is writable again/);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    expect((await fleet.status()).version).toBe(1);
    expect((await mysql3.slaveStatus())?.Master_Host).toBe(mysql1.address);
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['after the rollback'], { as: 'app' });
  });

  it('is refused with a clear message: target no_master, lag over the limit, a failover block; --dry-run changes nothing', async () => {
    const fleet = await startFailoverFleet(cluster, {
      servers: [{ name: 'mysql1' }, { name: 'mysql2', candidate: true }, { name: 'mysql3', no_master: true }],
    });
    const dry = await fleet.admin(['switchover', '--cluster', 'myservice', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/switchover mysql1 → mysql2 would work \(dry run, nothing changed\)/);
    expect(dry.stdout).toMatch(/ok: mysql3 replicates from mysql1, \d+ s behind/);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);

    const noMaster = await switchover(fleet, { to: 'mysql3' });
    expect([noMaster.status, noMaster.body.message]).toEqual([409, 'no switchover of myservice: mysql3 is marked no_master']);

    // A lock held on mysql2 stalls its SQL thread on the next row: its lag then grows second by second.
    // (MASTER_DELAY would too, but MariaDB's Seconds_Behind_Master on a delayed replica is not steady.)
    const lock = await mysql2.connect({ as: 'root' });
    await lock.query('LOCK TABLES app.writes WRITE');
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['lag'], { as: 'app' });
    await waitFor(async () => Number((await mysql2.slaveStatus())?.Seconds_Behind_Master) >= 2, 10_000, 'lag');
    const lagging = await fleet.admin(['switchover', '--cluster', 'myservice', '--max-lag', '1']);
    await lock.end();
    expect(lagging.code).toBe(1);
    expect(lagging.stderr).toMatch(/no switchover of myservice: mysql2 is \d+ s behind \(limit 1 s; --max-lag\)/);

    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    await waitFailoversFiled(fleet, 1);
    const blocked = await switchover(fleet, {});
    expect(blocked.status).toBe(409);
    expect(blocked.body.message).toMatch(/automatic failover is blocked until .* after the last failover/);
    expect(blocked.body.message).toMatch(/check the cluster, then pullover-controller ack first$/);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
  });

  it('rejoin after a failover: the restarted old master becomes a replica of the new one and converges', async () => {
    const fleet = await startFailoverFleet(cluster);
    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    await mysql2.query('INSERT INTO app.writes (v) VALUES (?)', ['on mysql2'], { as: 'app' });
    await mysql1.start();
    const cli = await fleet.admin(['rejoin', '--cluster', 'myservice', 'mysql1']);
    const rejoined = /^myservice: rejoined: mysql1 \(at 0-1-\d+\) replicates from mysql2/;
    expect([cli.code, cli.stdout]).toEqual([0, expect.stringMatching(rejoined)]);
    await waitFor(async () => (await rowIds(mysql1)).size === (await rowIds(mysql2)).size, 10_000, 'mysql1 to catch up');
    const st = await mysql1.slaveStatus();
    expect([st?.Master_Host, st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([mysql2.address, 'Yes', 'Yes']);
    expect(await mysql1.variable('read_only')).toBe('1');
    // No longer fenced: once the post-failover block is lifted, a switchover may move the master back.
    expect((await fleet.admin(['ack', '--cluster', 'myservice'])).code).toBe(0);
    const dry = await switchover(fleet, { to: 'mysql1', dry_run: true });
    expect([dry.status, dry.body.outcome]).toEqual([200, 'planned']);
  });

  it('rejoin with an errant transaction on the old master: refused, listed, still read-only', async () => {
    const fleet = await startFailoverFleet(cluster);
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['before'], { as: 'app' });
    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    await mysql2.query('INSERT INTO app.writes (v) VALUES (?)', ['on mysql2'], { as: 'app' });
    await mysql1.start();
    // The fencer kills every client of a fenced server that answers again: ours too, until it has.
    await waitFor(async () => (await fleet.controller?.log())?.includes('fenced mysql1 answers again') === true, 10_000, 'the fence of mysql1');
    expect(await mysql1.variable('read_only')).toBe('1');

    // Written on the fenced server behind everyone's back (pullover's user ignores read_only).
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['errant']);
    const refused = await rejoin(fleet, 'mysql1');
    expect(refused.outcome).toBe('refused');
    expect(refused.errant).toMatch(/^domain 0 server 1 seq \d+\.\.\d+$/);
    expect(refused.detail).toMatch(/mysql1 has transactions mysql2 lacks .*it stays read_only and fenced/);
    expect(await mysql1.variable('read_only')).toBe('1');
    expect(await mysql1.slaveStatus()).toBeUndefined();
    const cli = await fleet.admin(['rejoin', '--cluster', 'myservice', 'mysql1']);
    expect([cli.code, cli.stdout]).toEqual([1, expect.stringMatching(/^myservice: REFUSED: mysql1 has transactions/)]);
  });

  it('rejoin: auto makes a clean old master a replica as soon as it is back', async () => {
    const fleet = await startFailoverFleet(cluster, { clusterExtra: '    rejoin: auto\n' });
    await mysql1.kill('SIGKILL');
    await waitAgentsOn(fleet, mysql2);
    await mysql2.query('INSERT INTO app.writes (v) VALUES (?)', ['after the failover'], { as: 'app' });
    await mysql1.start();
    await waitFor(async () => {
      const st = await mysql1.slaveStatus();
      return st?.Master_Host === mysql2.address && st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
    }, 15_000, 'mysql1 to replicate from mysql2');
    await waitFor(async () => (await rowIds(mysql1)).size === (await rowIds(mysql2)).size, 10_000, 'mysql1 to catch up');
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    expect((await fleet.status()).clusters[0]?.failover.blocked_until).not.toBeNull();
    // Said once the controller itself has seen both threads run, which may come after our own look.
    const said = /rejoin mysql1: mysql1 \(at .*\) replicates from mysql2/;
    await waitFor(async () => said.test((await fleet.controller?.log()) ?? ''), 12_000, 'the rejoin to be logged');
  });
});
