import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SwitchoverResponse } from '@pullover/protocol';
import { describe, expect, it } from 'vitest';
import { realCluster, rowIds, startFailoverFleet, waitAgentsOn } from './support/failover-fleet.js';
import type { Fleet } from './support/fleet.js';
import { type Cluster, type Server, waitFor } from './support/mariadb.js';

// A switchover blocks the master's writes from its first step: whatever stops it before the new
// master is published (a controller killed, a target that dies, a fence that cannot be had in
// time) must leave the old master writable, the mapping unchanged and every replica on it.

type Answer = SwitchoverResponse & { message?: string };

interface Journal {
  switchover: { reached: string } | null;
  switchovers: { outcome: string; error?: string; steps: { name: string; detail: string }[] }[];
  fenced: string[];
}

async function switchover(fleet: Fleet, body: Record<string, unknown>): Promise<{ status: number; body: Answer }> {
  const response = await fleet.api('POST', '/v1/clusters/myservice/switchover', body);
  return { status: response.status, body: (await response.json()) as Answer };
}

/** The cluster's switchover journal and records, as saved in the controller's state file. */
async function journal(fleet: Fleet): Promise<Journal> {
  const state = JSON.parse(await readFile(join(fleet.stateDir, 'state.json'), 'utf8')) as { failover: Record<string, Journal> };
  return state.failover.myservice ?? { switchover: null, switchovers: [], fenced: [] };
}

/**
 * What a controller SIGKILLed right after promoting mysql2 leaves behind: mysql1 read_only,
 * mysql2 caught up and writable, and a journal at "promoting". Made by hand: that instant is
 * too short to hit with a kill.
 */
async function killedAfterPromotion(fleet: Fleet, mysql1: Server, mysql2: Server): Promise<void> {
  await fleet.controller?.kill('SIGKILL');
  await mysql1.query('SET GLOBAL read_only=ON');
  const [{ gtid }] = await mysql1.query<[{ gtid: string }]>('SELECT @@GLOBAL.gtid_current_pos AS gtid');
  await mysql2.query('SELECT MASTER_GTID_WAIT(?, 10)', [gtid]);
  for (const sql of ['STOP SLAVE', 'RESET SLAVE ALL', 'SET GLOBAL read_only=OFF']) await mysql2.query(sql);
  const file = join(fleet.stateDir, 'state.json');
  const state = JSON.parse(await readFile(file, 'utf8')) as { failover: Record<string, unknown> };
  const now = new Date().toISOString();
  const steps = [
    { name: 'write-blocked', ms: 2, detail: `mysql1 read_only, at ${gtid}` },
    { name: 'caught-up', ms: 1, detail: 'by hand' },
  ];
  const switchover = {
    started_at: now, old_master: 'mysql1', target: 'mysql2', repoint: ['mysql1', 'mysql3'], checks: [], reason: null,
    reached: 'promoting', old_master_gtid: gtid, write_blocked_at: now, write_blocked_ms: null, version: null, steps,
  };
  // A state written before the switchover journal has no `switchovers`: it is not needed here either.
  state.failover.myservice = { blocked_until: null, paused: null, fenced: [], running: null, switchover };
  await writeFile(file, JSON.stringify(state));
}

/** mysql2 applies nothing for 30 s: a switchover onto it waits in its catch-up step. */
async function delay(mysql2: Server, mysql1: Server): Promise<void> {
  for (const sql of ['STOP SLAVE', 'CHANGE MASTER TO MASTER_DELAY=30', 'START SLAVE']) await mysql2.query(sql);
  await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['delayed on mysql2'], { as: 'app' });
}

async function expectReplicatingFrom(master: Server, replicas: Server[]): Promise<void> {
  for (const replica of replicas) {
    await waitFor(async () => {
      const st = await replica.slaveStatus();
      return st?.Master_Host === master.address && st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
    }, 10_000, `${replica.name} to replicate from ${master.name}`);
  }
}

describe('switchover journal and rollback on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  realCluster(29, (c) => {
    cluster = c;
    [mysql1, mysql2, mysql3] = c.servers as [Server, Server, Server];
  });

  it('a controller SIGKILLed after write-block, before publish: the restarted one rolls it back', async () => {
    const fleet = await startFailoverFleet(cluster);
    await delay(mysql2, mysql1);
    const pending = switchover(fleet, { to: 'mysql2', max_lag_s: 1000, catchup_timeout_s: 60 }).catch(() => undefined);
    await waitFor(async () => (await mysql1.variable('read_only')) === '1', 10_000, 'mysql1 to be write-blocked');
    // Well inside the catch-up wait (mysql2 is 30 s behind).
    await new Promise((r) => setTimeout(r, 300));
    await fleet.controller?.kill('SIGKILL');
    await pending;
    expect(await cluster.writableServers()).toEqual([]);

    await fleet.startController();
    await waitFor(async () => (await journal(fleet)).switchover === null, 15_000, 'the switchover to be rolled back');
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    expect((await fleet.status()).version).toBe(1);
    await expectReplicatingFrom(mysql1, [mysql2, mysql3]);
    const { switchovers, fenced } = await journal(fleet);
    expect(switchovers.map((s) => [s.outcome, s.steps.map((step) => step.name)])).toEqual([
      ['rolled-back', ['write-blocked', 'resumed', 'rolled-back']],
    ]);
    expect(switchovers[0]?.error).toBe('the controller stopped (at write-blocked) before mysql2 was published');
    expect(fenced).toEqual([]);
    const said = /the unfinished switchover mysql1 → mysql2 \(stopped at write-blocked\): rolled-back/;
    expect(await fleet.controller?.log()).toMatch(said);
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['after the rollback'], { as: 'app' });

    // Restarted once more, there is nothing left to undo.
    await fleet.controller?.kill('SIGKILL');
    await fleet.startController();
    await new Promise((r) => setTimeout(r, 1500));
    expect((await journal(fleet)).switchovers).toHaveLength(1);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
  });

  it('a long write on the master refuses the switchover up front, naming it; read_only never lands', async () => {
    const fleet = await startFailoverFleet(cluster);
    const app = await mysql1.connect({ as: 'app' });
    const long = app.query({ sql: 'INSERT INTO app.writes (v) SELECT SLEEP(30)', timeout: 60_000 }).catch((error: unknown) => error);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const refused = await switchover(fleet, { to: 'mysql2' });
      expect(refused.status).toBe(409);
      const named = String.raw`connection \d+ \(app@[\d.:]+, running \d+ s\): INSERT INTO app\.writes \(v\) SELECT SLEEP\(30\)`;
      expect(refused.body.message).toMatch(new RegExp(
        String.raw`^no switchover of myservice: mysql1 \(the master\) is running writes that read_only would wait for: ${named}; `
        + String.raw`let them finish or end them \(KILL\), then switch over$`,
      ));
      expect(await mysql1.variable('read_only')).toBe('0');
      await new Promise((r) => setTimeout(r, 3000));
      expect(await mysql1.variable('read_only')).toBe('0');
      expect((await fleet.status()).version).toBe(1);
    } finally {
      await mysql1.query(`KILL ${app.threadId}`);
      await long;
      app.destroy();
    }
  });

  it('a fence that cannot be had within its bound (a LOCK TABLES … WRITE) is rolled back and does not land later', async () => {
    const fleet = await startFailoverFleet(cluster);
    const lock = await mysql1.connect({ as: 'root' });
    try {
      // Idle, so the up-front check sees no running write: the bound is what stops the fence.
      await lock.query('LOCK TABLES app.writes WRITE');
      const started = performance.now();
      const rolledBack = await switchover(fleet, { to: 'mysql2' });
      expect(performance.now() - started).toBeLessThan(4000);
      expect([rolledBack.status, rolledBack.body.outcome, rolledBack.body.version]).toEqual([200, 'rolled-back', null]);
      expect(rolledBack.body.error).toBe('mysql1 could not be made read_only within 1 s: it waited for a running write or a LOCK TABLES … WRITE');
      expect(rolledBack.body.steps.map((s) => s.name)).toEqual(['rolled-back']);
      expect(rolledBack.body.steps[0]?.detail).toMatch(/: mysql1 is writable again; nothing else changed$/);
      expect(await mysql1.variable('read_only')).toBe('0');
    } finally {
      await lock.query('UNLOCK TABLES');
      lock.destroy();
    }
    await new Promise((r) => setTimeout(r, 3000));
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    expect((await fleet.status()).version).toBe(1);
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['after the rollback'], { as: 'app' });
  });

  it('a target that dies during catch-up: rolled back, the old master writable, the other replica untouched', async () => {
    const fleet = await startFailoverFleet(cluster);
    await delay(mysql2, mysql1);
    const pending = switchover(fleet, { to: 'mysql2', max_lag_s: 1000, catchup_timeout_s: 60 });
    void pending.catch(() => undefined);
    await waitFor(async () => (await mysql1.variable('read_only')) === '1', 10_000, 'mysql1 to be write-blocked');
    await new Promise((r) => setTimeout(r, 300));
    await mysql2.kill('SIGKILL');
    const answer = await pending;

    expect([answer.status, answer.body.outcome, answer.body.version]).toEqual([200, 'rolled-back', null]);
    expect(answer.body.error).toMatch(/^mysql2 did not reach 0-1-\d+: mysql2: /);
    expect(answer.body.steps.map((s) => s.name)).toEqual(['write-blocked', 'rolled-back']);
    expect(answer.body.steps[1]?.detail).toMatch(/: mysql1 is writable again; nothing else changed$/);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    expect((await fleet.status()).version).toBe(1);
    await expectReplicatingFrom(mysql1, [mysql3]);
    const saved = await journal(fleet);
    expect([saved.switchover, saved.switchovers.map((s) => s.outcome), saved.fenced]).toEqual([null, ['rolled-back'], []]);

    // Never promoted, so not fenced: restarted, it goes on replicating from mysql1 by itself.
    await mysql2.start();
    await expectReplicatingFrom(mysql1, [mysql2]);
  });

  it('killed after promotion: the promoted target is read_only again and replicates from the old master, which is writable', async () => {
    const fleet = await startFailoverFleet(cluster);
    await killedAfterPromotion(fleet, mysql1, mysql2);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);

    await fleet.startController();
    await waitFor(async () => (await journal(fleet)).switchover === null, 15_000, 'the switchover to be rolled back');
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    expect((await fleet.status()).version).toBe(1);
    await expectReplicatingFrom(mysql1, [mysql2, mysql3]);
    const [record] = (await journal(fleet)).switchovers;
    expect(record?.outcome).toBe('rolled-back');
    expect(record?.steps.at(-1)?.detail).toBe(
      'the controller stopped (at promoting) before mysql2 was published: mysql1 is writable again; mysql2 replicates from mysql1',
    );
    await mysql1.query('INSERT INTO app.writes (v) VALUES (?)', ['after the rollback'], { as: 'app' });
    await waitFor(async () => (await rowIds(mysql2)).size === (await rowIds(mysql1)).size, 10_000, 'mysql2 to follow mysql1');
  });

  it('killed after promotion, the target took a write of its own: finished forward, nothing stranded', async () => {
    const fleet = await startFailoverFleet(cluster);
    await killedAfterPromotion(fleet, mysql1, mysql2);
    await mysql2.query('INSERT INTO app.writes (v) VALUES (?)', ['written on mysql2 before it was published'], { as: 'app' });

    await fleet.startController();
    await waitAgentsOn(fleet, mysql2);
    await waitFor(async () => (await journal(fleet)).switchover === null, 15_000, 'the switchover to be finished');
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    expect((await fleet.status()).version).toBe(2);
    await expectReplicatingFrom(mysql2, [mysql1, mysql3]);
    const [record] = (await journal(fleet)).switchovers;
    expect(record?.outcome).toBe('done');
    expect(record?.steps.map((s) => s.name)).toEqual(['write-blocked', 'caught-up', 'resumed', 'resumed', 'published', 'repointed', 'agents-applied']);
    expect(record?.steps[3]?.detail).toMatch(new RegExp(
      String.raw`^the controller stopped \(at promoting\) before mysql2 was published, but mysql2 took writes of its own `
      + String.raw`after it was promoted \(domain 0 seq \d+\.\.\d+\): finishing the switchover instead of rolling it back$`,
    ));
    await waitFor(async () => (await rowIds(mysql1)).size === (await rowIds(mysql2)).size, 10_000, 'mysql1 to get mysql2\'s write');
  });
});
