// Real MariaDB clusters (one master, two GTID replicas) for failover tests, the demo and the bench.
// Two layouts: 'loopback' (every server on 127.0.<id>.<n> in this host's namespace, the default) and
// 'netns' (every server a host of its own, see NetnsLayout), where a server can be black-holed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { keepOnExit, removeOnExit } from './exit.js';
import { NetnsLayout } from './netns.js';
import { type Credentials, type Login, ownedPid, type Semisync, Server } from './server.js';
import { eventually } from './wait.js';

export interface ClusterOptions {
  /**
   * Servers listen on 127.0.<id>.1..3 ('loopback') or 10.200.<id>.1..3 ('netns'): give every test
   * file its own id (10 is fleet.ts's fake servers).
   */
  id: number;
  servers?: 3;
  /** Default true (test conveniences); 'production' for fault injection, see Semisync. */
  semisync?: Semisync;
  /** The same port on every address, as on real hosts. Default 13306. */
  port?: number;
  /** Default 'loopback'; 'netns' puts every server in a network namespace of its own (root only). */
  network?: 'loopback' | 'netns';
  /** Seconds (default 4, which tests rely on to see a silent master lost quickly); MariaDB's default is 60. */
  slaveNetTimeout?: number;
}

const SCHEMA = [
  'DROP DATABASE IF EXISTS app',
  'CREATE DATABASE app',
  `CREATE TABLE app.writes (id BIGINT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64),
     at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))`,
];

export class Cluster {
  /** The master that reset() restores: mysql1. */
  readonly master: Server;
  readonly admin: Credentials & { passwordFile: string };
  readonly repl: Credentials;
  readonly app: Credentials;
  private destroyed = false;

  constructor(
    readonly id: number,
    readonly dir: string,
    readonly servers: Server[],
    logins: Record<Login, Credentials>,
    /** The netns layout the servers live on; undefined on loopback. */
    readonly network?: NetnsLayout,
  ) {
    this.master = servers[0] as Server;
    this.admin = { ...logins.pullover, passwordFile: join(dir, 'pullover.password') };
    this.repl = logins.repl;
    this.app = logins.app;
  }

  server(name: string): Server {
    const found = this.servers.find((s) => s.name === name);
    if (!found) throw new Error(`no server ${name}`);
    return found;
  }

  get replicas(): Server[] {
    return this.servers.filter((s) => s !== this.master);
  }

  /**
   * Back to the initial topology without reinstalling: every server running, empty binlogs and GTID
   * state, an empty app.writes, mysql1 the only writable server. About 0.15 s on 2 cores; 0.35 s
   * when a server has to be restarted after SIGKILL.
   */
  async reset(): Promise<void> {
    await Promise.all(this.servers.map(async (s) => {
      if (s.isPaused) s.resume();
      if (!s.isRunning) await s.start();
    }));
    await Promise.all(this.servers.map(async (s) => {
      // First: a former master made a replica would keep its SQL thread (and STOP SLAVE) waiting
      // for an ack, and its clients waiting too.
      if (s.semisync === 'production') await s.query('SET GLOBAL rpl_semi_sync_master_enabled=OFF');
      // Back to the my.cnf of the test settings: pullover turns it off on the servers it repoints.
      if (s.semisync === true) await s.query('SET GLOBAL rpl_semi_sync_master_enabled=ON');
      await s.query('STOP SLAVE');
      await killClients(s);
      for (const sql of ['RESET SLAVE ALL', 'SET GLOBAL read_only=ON']) await s.query(sql);
      await resetMaster(s);
      await s.query('SET GLOBAL gtid_slave_pos=?', ['']);
    }));
    if (this.master.semisync === 'production') await this.master.query('SET GLOBAL rpl_semi_sync_master_enabled=ON');
    // Replicas attach before the first write: with production semi-sync, a commit on a master with
    // no replica connected waits ten minutes for an ack. They replay the schema from the master's
    // binlog, dropping whatever app database they had.
    await Promise.all(this.replicas.map((s) => this.replicate(s)));
    for (const sql of SCHEMA) await this.master.query(sql);
    await this.master.query('SET GLOBAL read_only=OFF');
    await this.waitReplicasCaughtUp();
  }

  /** CHANGE MASTER TO the cluster's master by GTID and START SLAVE; resolves once both threads run. */
  async replicate(replica: Server, from: Server = this.master): Promise<void> {
    // MASTER_CONNECT_RETRY defaults to 60 s: a restarted master would wait that long for its replicas.
    await replica.query(
      `CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?,
         MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
      [from.address, from.port, this.repl.user, this.repl.password],
    );
    await replica.query('START SLAVE');
    await eventually(async () => {
      const st = await replica.slaveStatus();
      if (st?.Last_IO_Error || st?.Last_SQL_Error) throw new Error(`${st.Last_IO_Error} ${st.Last_SQL_Error}`);
      return st?.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
    }, 10_000, `${replica.name} replicating from ${from.name}`);
  }

  /** Waits until every replica has applied the master's whole binlog; returns that GTID position. */
  async waitReplicasCaughtUp(timeoutMs = 10_000): Promise<string> {
    const gtid = await this.master.variable('gtid_binlog_pos');
    await Promise.all(this.replicas.map((s) => waitReplicaCaughtUp(s, gtid, timeoutMs)));
    return gtid;
  }

  /** Servers answering @@read_only=0. Unreachable or paused servers are left out, not waited for. */
  async writableServers(): Promise<Server[]> {
    const answers = await Promise.all(this.servers.map(async (s) => {
      if (!s.isRunning || s.isPaused) return false;
      const ro = await s.variable('read_only').catch(() => '1');
      return ro === '0';
    }));
    return this.servers.filter((_, i) => answers[i]);
  }

  /** Stops every instance by PID and removes the temp dir; safe to repeat and after a failed start. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.servers.map((s) => s.kill('SIGKILL').catch(() => undefined)));
    this.network?.destroy();
    await rm(this.dir, { recursive: true, force: true });
    await rm(stateFile(this.id), { force: true });
    keepOnExit(this.dir);
    keepOnExit(stateFile(this.id));
  }
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const { id, semisync = true, port = 13306, network = 'loopback', slaveNetTimeout } = opts;
  if (!Number.isInteger(id) || id < 1 || id > 254) throw new Error(`cluster id ${id} must be 1..254`);
  await reapPrevious(id);
  const layout = network === 'netns' ? new NetnsLayout(id) : undefined;
  const dir = await mkdtemp(join(tmpdir(), `pullover-mariadb-${id}-`));
  await writeFile(stateFile(id), dir);
  removeOnExit(dir);
  removeOnExit(stateFile(id));
  const logins: Record<Login, Credentials> = {
    root: { user: 'root', password: '' },
    pullover: { user: 'pullover', password: secret() },
    repl: { user: 'repl', password: secret() },
    app: { user: 'app', password: secret() },
  };
  const servers = [1, 2, 3].map((n) => new Server({
    name: `mysql${n}`,
    address: layout?.address(n) ?? `127.0.${id}.${n}`,
    port,
    serverId: n,
    dir: join(dir, `mysql${n}`),
    semisync,
    slaveNetTimeout,
    netns: layout?.namespace(n),
    logins,
  }));
  const cluster = new Cluster(id, dir, servers, logins, layout);
  try {
    layout?.create();
    await writeFile(cluster.admin.passwordFile, `${logins.pullover.password}\n`, { mode: 0o600 });
    const template = await installTemplate(dir);
    await Promise.all(servers.map(async (s) => {
      await mkdir(s.dir, { recursive: true });
      await cp(template, s.datadir, { recursive: true });
      await s.writeConfig();
      await s.start();
      await createUsers(s, logins);
    }));
    await rm(template, { recursive: true, force: true });
    await cluster.reset();
    return cluster;
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
}

/** Resolves once `replica` has applied everything up to `gtid` (MariaDB's MASTER_GTID_WAIT). */
export async function waitReplicaCaughtUp(replica: Server, gtid: string, timeoutMs = 10_000): Promise<void> {
  const seconds = timeoutMs / 1000;
  const [row] = await replica.query<{ r: number }[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [gtid, seconds], {
    timeoutMs: timeoutMs + 5000,
  });
  if (row?.r !== 0) {
    const st = await replica.slaveStatus();
    throw new Error(`${replica.name} did not reach ${gtid} in ${timeoutMs} ms: ${JSON.stringify(st)}`);
  }
}

// One template install copied per instance: mariadb-install-db is the slow step, and three at once
// compete for 2 cores. (~1 s here, so not worth a cross-run cache that could go stale.)
async function installTemplate(dir: string): Promise<string> {
  const datadir = join(dir, 'template');
  const tmp = join(dir, 'install-tmp');
  await mkdir(tmp, { recursive: true });
  await promisify(execFile)('mariadb-install-db', [
    '--no-defaults',
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--user=root',
    `--datadir=${datadir}`,
    `--tmpdir=${tmp}`,
    '--innodb-log-file-size=16M',
  ]);
  await rm(tmp, { recursive: true, force: true });
  return datadir;
}

// Per server and kept out of the binlog: users exist before replication does and survive reset().
async function createUsers(s: Server, logins: Record<Login, Credentials>): Promise<void> {
  const conn = await s.connect({ as: 'root' });
  try {
    await conn.query('SET SESSION sql_log_bin=0');
    const grants: [Login, string][] = [
      ['pullover', 'ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION'],
      ['repl', 'REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ?@?'],
      ['app', 'SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER ON app.* TO ?@?'],
    ];
    for (const [login, grant] of grants) {
      const { user, password } = logins[login];
      await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
      await conn.query(`GRANT ${grant}`, [user, '%']);
    }
  } finally {
    await conn.end();
  }
}

// A test's leftover connection holding a lock on app.writes would block DROP DATABASE.
async function killClients(s: Server): Promise<void> {
  const rows = await s.query<{ id: number }[]>(
    'SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND user NOT IN (?)',
    [['system user', 'event_scheduler', 'root']],
  );
  for (const { id } of rows) await s.query('KILL CONNECTION ?', [id]).catch(() => undefined);
}

// RESET MASTER waits until InnoDB has durably flushed its redo log past the point of the request,
// which on an idle server happens only at the once-a-second background flush (MDEV-24302, MDEV-25611):
// ~0.9 s per reset unless a FLUSH ENGINE LOGS (durable with innodb_flush_log_at_trx_commit=1) nudges it.
async function resetMaster(s: Server): Promise<void> {
  let done = false;
  const reset = s.query('RESET MASTER');
  const settled = () => {
    done = true;
  };
  reset.then(settled, settled);
  while (!done) {
    await new Promise((r) => setTimeout(r, 20));
    // NO_WRITE_TO_BINLOG: a plain FLUSH is binlogged, and would land in the binlog just emptied.
    if (!done) await s.query('FLUSH NO_WRITE_TO_BINLOG ENGINE LOGS').catch(() => undefined);
  }
  await reset;
}

function secret(): string {
  return randomBytes(12).toString('hex');
}

function stateFile(id: number): string {
  return join(tmpdir(), `pullover-mariadb-${id}.dir`);
}

// A previous run killed before its exit hooks ran left instances on our addresses: end those (and
// only those: a PID counts only if its command line names that run's dir), and remove its files.
async function reapPrevious(id: number): Promise<void> {
  const dir = await readFile(stateFile(id), 'utf8').catch(() => undefined);
  if (!dir) return;
  for (const n of [1, 2, 3]) {
    const pidFile = join(dir, `mysql${n}`, 'mysqld.pid');
    const pid = ownedPid(pidFile, dir);
    if (pid === undefined) continue;
    process.kill(pid, 'SIGKILL');
    await eventually(() => ownedPid(pidFile, dir) === undefined, 10_000, `leftover mariadbd ${pid} to die`);
  }
  new NetnsLayout(id).destroy();
  await rm(dir, { recursive: true, force: true });
  await rm(stateFile(id), { force: true });
}
