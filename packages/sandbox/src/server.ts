import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Connection, createConnection } from 'mysql2/promise';

export const MARIADBD = '/usr/sbin/mariadbd';

export type Login = 'root' | 'pullover' | 'repl' | 'app';
export interface Credentials {
  user: string;
  password: string;
}

export interface ConnectOptions {
  as?: Login;
  connectTimeoutMs?: number;
}
export interface QueryOptions extends ConnectOptions {
  /** mysql2 never times out a query by itself: a paused server would hang the test. */
  timeoutMs?: number;
}

export interface SlaveStatus {
  Slave_IO_Running: string;
  Slave_SQL_Running: string;
  Last_IO_Error: string;
  Last_SQL_Error: string;
  Gtid_IO_Pos: string;
  [column: string]: unknown;
}

/**
 * `true`: semi-sync with test conveniences (a commit waits at most 1 s for an ack, and not at all
 * with no replica connected). `'production'`: as operators run it, a commit waits for an ack far
 * longer than any failover, also with no replica connected: an unacknowledged write never returns OK.
 * There, waiting as a master is on for the master only (Cluster.reset() sets it): on MariaDB 10.11
 * a replica with log_slave_updates and no replica of its own would make its SQL thread wait that
 * long for an ack of every transaction it applies, until the first timeout.
 */
export type Semisync = boolean | 'production';

/** What 'production' waits for an ack: ten minutes, far beyond any failover. */
export const PRODUCTION_SEMISYNC_TIMEOUT_MS = 600_000;

export interface ServerSpec {
  name: string;
  address: string;
  port: number;
  serverId: number;
  dir: string;
  semisync: Semisync;
  logins: Record<Login, Credentials>;
}

// Every mariadbd we started, so that a crashing or SIGTERMed test process takes them with it, and
// the files of clusters not destroyed yet, removed then too.
const live = new Set<ChildProcess>();
const leftovers = new Set<string>();
let hooked = false;
function killAllSync(): void {
  for (const child of live) {
    try {
      process.kill(child.pid as number, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  try {
    // In order: a cluster's dir before the file naming it, which lets the next start reap what is left.
    for (const path of leftovers) rmSync(path, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // still being written (mariadb-install-db): the next startCluster of that id reaps it
  }
  leftovers.clear();
}

/** `path` is removed if this process exits or is interrupted before keepOnExit(path). */
export function removeOnExit(path: string): void {
  leftovers.add(path);
  hookProcessExit();
}

export function keepOnExit(path: string): void {
  leftovers.delete(path);
}
function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAllSync);
  // Node's default SIGTERM/SIGINT handling skips 'exit' handlers; vitest stops its workers with SIGTERM.
  // Re-raised rather than process.exit(), which vitest replaces inside tests.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      killAllSync();
      process.kill(process.pid, signal);
    });
  }
}

/** One mariadbd we own: its files live under `dir`, and it is only ever signalled by its PID. */
export class Server {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly serverId: number;
  readonly dir: string;
  readonly datadir: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly configFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;

  constructor(private readonly spec: ServerSpec) {
    this.name = spec.name;
    this.address = spec.address;
    this.port = spec.port;
    this.serverId = spec.serverId;
    this.dir = spec.dir;
    this.datadir = join(spec.dir, 'data');
    this.socket = join(spec.dir, 'mysqld.sock');
    this.pidFile = join(spec.dir, 'mysqld.pid');
    this.logFile = join(spec.dir, 'error.log');
    this.configFile = join(spec.dir, 'my.cnf');
  }

  get pid(): number | undefined {
    return this.isRunning ? this.child?.pid : undefined;
  }

  /** True while the process exists, paused or not. */
  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get semisync(): Semisync {
    return this.spec.semisync;
  }

  get isPaused(): boolean {
    return this.isRunning && this.paused;
  }

  async writeConfig(): Promise<void> {
    const production = this.spec.semisync === 'production';
    const semisync = this.spec.semisync
      ? [
          `rpl_semi_sync_master_enabled=${production ? 'OFF' : 'ON'}`,
          'rpl_semi_sync_slave_enabled=ON',
          // Test convenience: otherwise a master with no semi-sync replica connected yet waits the full timeout per commit.
          `rpl_semi_sync_master_wait_no_slave=${production ? 'ON' : 'OFF'}`,
          `rpl_semi_sync_master_timeout=${production ? PRODUCTION_SEMISYNC_TIMEOUT_MS : 1000}`,
        ]
      : [];
    const lines = [
      '[mariadbd]',
      'user=root',
      `datadir=${this.datadir}`,
      // Parallel instances sharing /tmp collide on temporary file names.
      `tmpdir=${join(this.dir, 'tmp')}`,
      `socket=${this.socket}`,
      `pid_file=${this.pidFile}`,
      `log_error=${this.logFile}`,
      `bind_address=${this.address}`,
      `port=${this.port}`,
      `server_id=${this.serverId}`,
      'log_bin=mysql-bin',
      // The default relay log name embeds the hostname; a stable one survives restarts.
      'relay_log=relay-bin',
      'log_slave_updates=ON',
      'binlog_format=ROW',
      'gtid_strict_mode=ON',
      'gtid_domain_id=0',
      // Production starts every server read-only; only the master is made writable, by pullover.
      'read_only=ON',
      'skip_name_resolve=ON',
      // Replicas notice a silent (paused) master within seconds rather than the default minute.
      'slave_net_timeout=4',
      ...semisync,
      'innodb_buffer_pool_size=32M',
      'innodb_log_file_size=16M',
      // =1 also makes FLUSH ENGINE LOGS durable, which reset() needs to hurry RESET MASTER along.
      'innodb_flush_log_at_trx_commit=1',
      // Still safe against SIGKILL of the process: the OS keeps what was written.
      'sync_binlog=0',
      'performance_schema=OFF',
      '',
    ];
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
    await writeFile(this.configFile, lines.join('\n'));
  }

  /** Starts mariadbd on its datadir and resolves once it accepts connections. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.isRunning) throw new Error(`${this.name} is already running`);
    // --defaults-file must come first; it also keeps /etc/mysql out of the picture.
    const child = spawn(MARIADBD, [`--defaults-file=${this.configFile}`], { stdio: 'ignore', detached: true });
    // A test that forgets destroy() must not keep its worker alive; the exit hooks kill it instead.
    child.unref();
    this.child = child;
    this.paused = false;
    live.add(child);
    hookProcessExit();
    this.exited = new Promise((done) => {
      child.once('exit', () => {
        live.delete(child);
        done();
      });
      child.once('error', () => {
        live.delete(child);
        done();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.isRunning) throw new Error(`${this.name} exited while starting:\n${await this.logTail()}`);
      try {
        await this.query('SELECT 1', [], { as: 'root', connectTimeoutMs: 1000 });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${this.name} not accepting connections: ${String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` by PID; for a terminating signal, waits until the process has exited. */
  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL', timeoutMs = 30_000): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    process.kill(pid, signal);
    // A stopped process only acts on SIGTERM once continued.
    if (this.paused && signal === 'SIGTERM') this.resume();
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs).unref()),
    ]);
    if (timedOut) throw new Error(`${this.name} (pid ${pid}) still running ${timeoutMs} ms after ${signal}`);
  }

  /** Clean shutdown, SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    try {
      await this.kill('SIGTERM', timeoutMs);
    } catch {
      await this.kill('SIGKILL');
    }
  }

  pause(): void {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`${this.name} is not running`);
    process.kill(pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`${this.name} is not running`);
    process.kill(pid, 'SIGCONT');
    this.paused = false;
  }

  /** Same datadir and config; a server started read-only comes back read-only. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** A connection the caller must end(); `root` goes through the socket, the others over TCP like real clients. */
  connect({ as = 'pullover', connectTimeoutMs = 5000 }: ConnectOptions = {}): Promise<Connection> {
    const { user, password } = this.spec.logins[as];
    const where = as === 'root' ? { socketPath: this.socket } : { host: this.address, port: this.port };
    return createConnection({ ...where, user, password, connectTimeout: connectTimeoutMs, supportBigNumbers: true });
  }

  async query<T = Record<string, unknown>[]>(sql: string, params: unknown[] = [], opts: QueryOptions = {}): Promise<T> {
    const conn = await this.connect(opts);
    try {
      const [rows] = await conn.query({ sql, values: params, timeout: opts.timeoutMs ?? 10_000 });
      await conn.end();
      return rows as T;
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }

  async slaveStatus(): Promise<SlaveStatus | undefined> {
    const rows = await this.query<SlaveStatus[]>('SHOW SLAVE STATUS');
    return rows[0];
  }

  async variable(name: string): Promise<string> {
    const rows = await this.query<{ v: unknown }[]>(`SELECT @@GLOBAL.${name} AS v`);
    return String(rows[0]?.v ?? '');
  }

  logTail(lines = 20): Promise<string> {
    return readFile(this.logFile, 'utf8').then(
      (log) => log.trimEnd().split('\n').slice(-lines).join('\n'),
      () => '(no log)',
    );
  }
}

/** The PID in `pidFile` if that process is a mariadbd whose command line names `dir` — i.e. one we started. */
export function ownedPid(pidFile: string, dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('mariadbd') && cmdline.includes(dir) ? pid : undefined;
  } catch {
    return undefined;
  }
}
