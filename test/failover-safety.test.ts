import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failoverHistory, realCluster, resolvedBy, startFailoverFleet, waitAgentsOn } from './support/failover-fleet.js';
import type { Fleet } from './support/fleet.js';
import { type Cluster, type Server, waitFor } from './support/mariadb.js';
import { eventually } from './support/processes.js';

// What must not happen: a half-done failover left by a crashed controller, or any action when
// the controller cannot be sure (no eligible replica, broken replication, wrong credentials).

describe('failover safety rails on real MariaDB', () => {
  let cluster: Cluster;
  let mysql1: Server;
  let mysql2: Server;
  let mysql3: Server;
  let fleet: Fleet | undefined;
  realCluster(22, (c) => {
    cluster = c;
    [mysql1, mysql2, mysql3] = c.servers as [Server, Server, Server];
  });

  it('a controller SIGKILLed in the middle of a failover finishes it after a restart: one writable master, the hostname on it', async () => {
    const marker = join(cluster.dir, 'before-hook-ran');
    // The before hook holds the failover after it was journaled, long enough to kill the controller.
    fleet = await startFailoverFleet(cluster, {
      clusterExtra: `    failover: { command_timeout: 2s, hooks: { before: "echo run >> ${marker}; sleep 1.5" } }\n`,
    });
    await mysql1.kill('SIGKILL');
    await eventually(() => existsSync(marker), 10_000, 'the failover to start');
    await fleet.controller?.kill('SIGKILL');
    expect((await cluster.writableServers()).length).toBe(0);
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);

    await fleet.startController();
    await waitAgentsOn(fleet, mysql2);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
    expect((await mysql3.slaveStatus())?.Master_Host).toBe(mysql2.address);
    await waitFor(async () => (await failoverHistory(fleet!)).some((r) => r.outcome === 'done'), 10_000, 'the record');
    const history = await failoverHistory(fleet);
    expect(history.map((r) => [r.old_master, r.new_master, r.outcome])).toEqual([['mysql1', 'mysql2', 'done']]);
    expect(await fleet.controller?.log()).toMatch(/resuming the failover .* \(mysql1 → mysql2\)/);

    // Restarted once more, it does not repeat the finished failover.
    await fleet.controller?.kill('SIGKILL');
    await fleet.startController();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await failoverHistory(fleet)).toHaveLength(1);
    expect((await fleet.status()).version).toBe(2);
  });

  it('a paused cluster keeps its dead master until resume, then fails over at once', async () => {
    fleet = await startFailoverFleet(cluster);
    const pause = await fleet.admin(['pause', '--cluster', 'myservice', '--for', '10m', '--reason', 'mysql1 upgrade']);
    expect(pause.code, pause.stderr).toBe(0);
    expect((await fleet.status()).clusters[0]?.failover).toMatchObject({ pause_reason: 'mysql1 upgrade' });

    await mysql1.kill('SIGKILL');
    const said = /automatic failover is paused until \S+ \(mysql1 upgrade\); pullover-controller resume --cluster/;
    await waitFor(async () => said.test((await fleet!.controller?.log()) ?? ''), 10_000, 'the controller to say why');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await fleet.status()).clusters[0]).toMatchObject({ master: 'mysql1', health: { state: 'master-dead' } });
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);
    expect(await failoverHistory(fleet)).toEqual([]);

    const resume = await fleet.admin(['resume', '--cluster', 'myservice']);
    expect(resume.stdout).toMatch(/^myservice: automatic failover armed again \(the pause would have lasted until /);
    await waitAgentsOn(fleet, mysql2);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql2']);
  });

  it('no eligible replica (one no_master, one with a broken SQL thread): no action, one clear message', async () => {
    fleet = await startFailoverFleet(cluster, {
      servers: [{ name: 'mysql1' }, { name: 'mysql2', candidate: true }, { name: 'mysql3', no_master: true }],
    });
    // A row written on mysql2 behind replication's back collides with the master's next insert.
    const stray = await mysql2.connect();
    await stray.query('SET SESSION sql_log_bin=0');
    await stray.query('INSERT INTO app.writes (id, v) VALUES (1000, ?)', ['stray']);
    await stray.end();
    await mysql1.query('INSERT INTO app.writes (id, v) VALUES (1000, ?)', ['master'], { as: 'app' });
    await waitFor(async () => Number((await mysql2.slaveStatus())?.Last_SQL_Errno) !== 0, 5000, 'mysql2 to break');

    await mysql1.kill('SIGKILL');
    await waitFor(
      async () => /cannot be replaced/.test((await fleet!.controller?.log()) ?? ''),
      10_000,
      'the controller to say why it does nothing',
    );
    const log = (await fleet.controller?.log()) ?? '';
    expect(log).toMatch(/mysql1 is dead and cannot be replaced: no server can replace mysql1: /);
    expect(log).toMatch(/mysql2 has a broken SQL thread \(error 1062/);
    expect(log).toMatch(/mysql3 is marked no_master/);
    // Said once, not once per second.
    expect(log.match(/cannot be replaced/g)).toHaveLength(1);
    expect(await failoverHistory(fleet)).toEqual([]);
    expect((await cluster.writableServers()).length).toBe(0);
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);
    expect((await fleet.status()).clusters[0]?.health?.state).toBe('master-dead');
  });

  it('wrong credentials: the master counts as alive, nothing moves, the log names the problem', async () => {
    const wrong = join(cluster.dir, 'wrong.password');
    await writeFile(wrong, 'not-the-password\n');
    fleet = await startFailoverFleet(cluster, { passwordFile: wrong });
    await waitFor(async () => /Access denied/.test((await fleet!.controller?.log()) ?? ''), 10_000, 'a log line');
    await new Promise((r) => setTimeout(r, 2000));
    expect((await fleet.status()).clusters[0]?.health?.state).toBe('master-alive');
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql1']);
    expect(await failoverHistory(fleet)).toEqual([]);

    // The master dies: without the replicas' view the controller cannot confirm, and says why.
    await mysql1.kill('SIGKILL');
    await waitFor(
      async () => (await fleet!.status()).clusters[0]?.health?.state === 'controller-isolated',
      10_000,
      'the verdict',
    );
    const sentence = (await fleet.status()).clusters[0]?.health?.sentence;
    expect(sentence).toMatch(/cannot log in to mysql2, mysql3 .*fix mysql.user and mysql.password_file/);
    expect(await failoverHistory(fleet)).toEqual([]);
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);
  });

  it('a manual failover is refused while the master answers, and forced onto a named replica when it is dead; hooks run', async () => {
    const after = join(cluster.dir, 'after-hook.json');
    const mhaLog = join(cluster.dir, 'mha.log');
    const mhaScript = join(cluster.dir, 'master_ip_failover');
    await writeFile(mhaScript, `#!/bin/sh\necho "$*" >> ${mhaLog}\n`, { mode: 0o755 });
    fleet = await startFailoverFleet(cluster, {
      clusterExtra: `    failover: { auto: false, hooks: { after: "cat > ${after}" }, mha_failover_script: ${mhaScript} }\n`,
    });
    const refused = await fleet.admin(['failover', '--cluster', 'myservice']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/mysql1 answers: failover is for a dead master; move a live one with switchover/);

    await mysql1.kill('SIGKILL');
    await waitFor(async () => /automatic failover is off/.test((await fleet!.controller?.log()) ?? ''), 10_000, 'the log');
    expect(await resolvedBy(fleet)).toEqual([mysql1.address, mysql1.address]);
    const forced = await fleet.admin(['failover', '--cluster', 'myservice', '--to', 'mysql3', '--reason', 'mysql1 disk died']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/mysql1 → mysql3, done, version 2/);
    expect(forced.stdout).toMatch(/agents-applied/);
    // Progress: each step on stderr as the controller takes it, before the summary.
    expect(forced.stderr).toMatch(/^ {2}[\d:.]+ failover myservice: promoted in \d+ ms: mysql3 /m);
    await waitAgentsOn(fleet, mysql3);
    expect((await cluster.writableServers()).map((s) => s.name)).toEqual(['mysql3']);
    expect((await mysql2.slaveStatus())?.Master_Host).toBe(mysql3.address);

    await eventually(async () => existsSync(after) && (await readFile(mhaLog, 'utf8')).includes('start'), 5000, 'the hooks');
    expect(JSON.parse(await readFile(after, 'utf8'))).toMatchObject({
      event: 'after',
      old_master: { name: 'mysql1', address: mysql1.address },
      new_master: { name: 'mysql3', address: mysql3.address },
      reason: 'mysql1 disk died',
    });
    expect((await readFile(mhaLog, 'utf8')).trim().split('\n')).toEqual([
      `--command=stop --ssh_user=root --orig_master_host=mysql1 --orig_master_ip=${mysql1.address} --orig_master_port=${mysql1.port}`,
      `--command=start --ssh_user=root --orig_master_host=mysql1 --orig_master_ip=${mysql1.address} --orig_master_port=${mysql1.port} --new_master_host=mysql3 --new_master_ip=${mysql3.address} --new_master_port=${mysql3.port}`,
    ]);
  });
});
