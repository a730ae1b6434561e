import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Cluster, startCluster } from '@pullover/sandbox';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Fleet, type FleetOptions } from './support/fleet.js';
import { CONTROLLER_CLI, runCli } from './support/processes.js';

// `pullover-controller check` against real MariaDB: what it says, and its exit code.

describe('pullover-controller check on real MariaDB', () => {
  let cluster: Cluster;
  let fleet: Fleet | undefined;
  let port: number;

  beforeAll(async () => {
    cluster = await startCluster({ id: 23 });
    port = cluster.master.port;
  });
  afterAll(() => cluster?.destroy());
  // The sandbox's my.cnf lets a master stop waiting for its replicas after 1 s, or at once with none
  // connected: quick tests, but what `check` refuses. Production settings for the test, then back:
  // reset() commits on a master with no replica connected, which would wait out the long timeout.
  const semisync = (timeoutMs: number, waitNoSlave: 'ON' | 'OFF') => Promise.all(cluster.servers.filter((s) => s.isRunning).map(async (s) => {
    await s.query('SET GLOBAL rpl_semi_sync_master_timeout=?', [timeoutMs]);
    await s.query(`SET GLOBAL rpl_semi_sync_master_wait_no_slave=${waitNoSlave}`);
    // In production semi-sync as a master is on where pullover made a server writable only: on a
    // replica, with wait_no_slave ON, MariaDB's SQL thread would wait for acknowledgements.
    const asMaster = waitNoSlave === 'OFF' || s === cluster.master ? 'ON' : 'OFF';
    await s.query(`SET GLOBAL rpl_semi_sync_master_enabled=${asMaster}`);
  }));
  const SANDBOX = [1000, 'OFF'] as const;
  beforeEach(async () => {
    await cluster.reset();
    await semisync(300_000, 'ON');
  });
  afterEach(async () => {
    await fleet?.destroy();
    fleet = undefined;
    await semisync(...SANDBOX);
  });

  /** Writes a controller.yaml for the cluster (no controller is started) and runs check on it. */
  type ServerEntry = Omit<NonNullable<FleetOptions['servers']>[number], 'address'>;
  interface CheckOptions { passwordFile?: string; servers?: ServerEntry[]; clusterExtra?: string; heartbeat?: string }
  async function check(opts: CheckOptions = {}) {
    const replFile = join(cluster.dir, 'repl.password');
    await writeFile(replFile, `${cluster.repl.password}\n`);
    const servers = opts.servers ?? [{ name: 'mysql1' }, { name: 'mysql2', candidate: true }, { name: 'mysql3' }];
    fleet = await Fleet.create({
      mysql: {
        port: cluster.master.port,
        user: cluster.admin.user,
        password_file: opts.passwordFile ?? cluster.admin.passwordFile,
        replication_user: cluster.repl.user,
        replication_password_file: replFile,
      },
      servers: servers.map((s) => ({ ...s, address: cluster.server(s.name).address })),
      // The default 1 s would report a server as not answering when the 2 cores are busy. The
      // sandbox points its replicas itself, with MariaDB's period: half of slave_net_timeout (4 s).
      clusterExtra: `    monitor: { timeout: 5s, replica_heartbeat: ${opts.heartbeat ?? '2s'} }\n${opts.clusterExtra ?? ''}`,
    });
    return { ...(await runCli(CONTROLLER_CLI, ['check', '--config', fleet.controllerConfig])), config: fleet.controllerConfig };
  }

  it('a healthy cluster: ok lines, a line per server as it is checked, exit 0, and what a failover would do', async () => {
    const r = await check();
    expect(r.stdout.split('\n').filter((line) => !/^ok /.test(line))).toEqual([expect.stringMatching(/^myservice: ready/), '']);
    for (const name of ['mysql1', 'mysql2', 'mysql3']) {
      expect(r.stdout).toMatch(new RegExp(`^ok +myservice/${name}: pullover logs in: MariaDB 10\\.`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^ok +myservice/${name}: pullover has every privilege a failover needs$`, 'm'));
      expect(r.stderr).toMatch(new RegExp(`^checked myservice/${name} \\(.*127\\.0\\.23\\.\\d:\\d+\\): MariaDB`, 'm'));
    }
    expect(r.stderr).toContain(`checked myservice/mysql1 (the master per the first server in the config, 127.0.23.1:${port}): MariaDB`);
    expect(r.stdout).toContain('ok    myservice/mysql1: the master: writable, replicates from nobody, semi-sync active (2 replica(s) acknowledge)');
    expect(r.stdout).toContain('ok    myservice/mysql2: semi-sync: rpl_semi_sync_master_enabled OFF (on once promoted), rpl_semi_sync_master_timeout 5m (at least 5m), rpl_semi_sync_master_wait_no_slave ON, rpl_semi_sync_slave_enabled ON\n');
    expect(r.stdout).toContain(`ok    myservice/mysql3: replicates from mysql1 (127.0.23.1:${port}) by GTID, IO and SQL threads running, 0 s behind, read-only, heartbeat every 2 s, slave_net_timeout 4 s\n`);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^myservice: ready: a failover would work; if mysql1 died now: promote mysql2 \(candidate, at 0-1-\d+\); repoint mysql3$/);
    expect(r.code).toBe(0);
  });

  it('the sandbox\'s semi-sync (1 s timeout, no wait without replicas): FAIL on every server that is or may become the master', async () => {
    await semisync(...SANDBOX);
    const r = await check();
    for (const name of ['mysql1', 'mysql2', 'mysql3']) {
      const it = name === 'mysql1' ? 'it would' : 'once promoted, it would';
      expect(r.stdout).toMatch(new RegExp(`^FAIL  myservice/${name}: rpl_semi_sync_master_timeout is 1000 ms: frozen or cut off from its replicas for longer, ${it} stop waiting .*so wait at least 5m → fix: SET GLOBAL rpl_semi_sync_master_timeout=300000 on ${name}, and rpl_semi_sync_master_timeout=300000 in its my\\.cnf`, 'm'));
      expect(r.stdout).toContain(`FAIL  myservice/${name}: rpl_semi_sync_master_wait_no_slave is OFF: cut off from every replica, ${it} stop waiting at once and acknowledge commits that the failover then discards → fix: SET GLOBAL rpl_semi_sync_master_wait_no_slave=ON on ${name}, and rpl_semi_sync_master_wait_no_slave=ON in its my.cnf\n`);
    }
    expect(r.stdout).toMatch(/^myservice: NOT ready: 6 problems to fix; if mysql1 died now: promote mysql2/m);
    expect(r.code).toBe(1);
  });

  it('replicas with a longer heartbeat period than the cluster\'s: WARN naming set-heartbeat, exit 0', async () => {
    const r = await check({ heartbeat: '1s' });
    for (const name of ['mysql2', 'mysql3']) {
      expect(r.stdout).toContain(`WARN  myservice/${name}: receives a heartbeat every 2 s: it confirms a hung or cut-off master only after that long without one (pullover sets 1 s, monitor.replica_heartbeat, on every replica it points) → fix: pullover-controller set-heartbeat --cluster myservice (it runs STOP SLAVE; CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=1; START SLAVE on each such replica)\n`);
    }
    expect(r.stdout).toMatch(/^myservice: ready: a failover would work \(2 warnings\)/m);
    expect(r.code).toBe(0);
  });

  it('a replica with replication stopped: FAIL naming it and the fix, exit 1', async () => {
    await cluster.server('mysql3').query('STOP SLAVE');
    const r = await check();
    expect(r.stdout).toContain('\nFAIL  myservice/mysql3: replication is broken: the IO thread is stopped and the SQL thread is stopped → fix: START SLAVE on mysql3\n');
    expect(r.stdout).toMatch(/^myservice: NOT ready: 1 problem to fix\b.*; if mysql1 died now: promote mysql2/m);
    expect(r.code).toBe(1);
  });

  it('a wrong password file: access denied on every server, exit 1', async () => {
    const wrong = join(cluster.dir, 'wrong.password');
    await writeFile(wrong, 'not-the-password\n');
    const r = await check({ passwordFile: wrong });
    for (const name of ['mysql1', 'mysql2', 'mysql3']) {
      expect(r.stdout).toMatch(new RegExp(`^FAIL +myservice/${name}: access denied for pullover: Access denied for user 'pullover'.* → fix: check mysql\\.password_file`, 'm'));
    }
    expect(r.code).toBe(1);
  });

  it('mysqld down on a replica: connection refused, FAIL, and the candidate would still be promoted', async () => {
    await cluster.server('mysql3').kill('SIGKILL');
    const r = await check();
    expect(r.stdout).toContain(`FAIL  myservice/mysql3: connection refused at 127.0.23.3:${port}: no mysqld listens there → fix: start mysqld on mysql3, or correct its address or mysql.port in the config\n`);
    expect(r.stderr).toMatch(/^checked myservice\/mysql3 \(127\.0\.23\.3:\d+\): connection refused$/m);
    expect(r.stdout).toMatch(new RegExp('^myservice: NOT ready: 1 problem to fix\\b.*; if mysql1 died now: promote mysql2 \\(candidate, at 0-1-\\d+\\)$', 'm'));
    expect(r.code).toBe(1);
  });

  it('a writable replica: two masters, FAIL', async () => {
    await cluster.server('mysql3').query('SET GLOBAL read_only=OFF');
    const r = await check();
    expect(r.stdout).toContain('\nFAIL  myservice/mysql3: is writable too (read_only=OFF): two masters, and writes landing here are not on mysql1 → fix: SET GLOBAL read_only=ON on mysql3 now, and set read_only=ON in its my.cnf; pullover makes only the master writable\n');
    expect(r.code).toBe(1);
  });

  it('every other server no_master: FAIL with the planner\'s sentence', async () => {
    const r = await check({ servers: [{ name: 'mysql1' }, { name: 'mysql2', no_master: true }, { name: 'mysql3', no_master: true }] });
    const sentence = 'no server can replace mysql1: mysql2 is marked no_master; mysql3 is marked no_master';
    expect(r.stdout).toContain(`FAIL  myservice/mysql1: no failover is possible: if mysql1 died now, ${sentence} → fix:`);
    expect(r.stdout).toMatch(new RegExp(`^myservice: NOT ready: 1 problem to fix\\b.*; if mysql1 died now: ${sentence}$`, 'm'));
    expect(r.code).toBe(1);
  });

  it('a config with a bad key: exit 2, naming the file and the key', async () => {
    const r = await check({ clusterExtra: '    monitr: { interval: 1s }\n' });
    expect(r.stderr.trim()).toBe(`${r.config}: clusters[0].monitr: unknown key`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });
});
