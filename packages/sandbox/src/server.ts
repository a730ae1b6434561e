// One mariadbd of a sandbox cluster: its lifecycle (start, signals by PID, restart) and the
// connections tests open to it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { type Connection, type ConnectionOptions, createConnection } from 'mysql2/promise';
import { renderMyCnf, type Semisync, TEST_SLAVE_NET_TIMEOUT_S } from './mycnf.js';
import { OwnedProcess } from './owned-process.js';

export { PRODUCTION_SEMISYNC_TIMEOUT_MS, type Semisync } from './mycnf.js';

export const MARIADBD = '/usr/sbin/mariadbd';

export type Login = 'root' | 'pullover' | 'repl' | 'app';
export interface Credentials {
  user: string;
  password: string;
}

export interface ConnectOptions {
  as?: Login;
  connectTimeoutMs?: number;
  /** The local address to connect from (TCP logins): a vantage point of its own on the netns layout. */
  localAddress?: string;
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

export interface ServerSpec {
  name: string;
  address: string;
  port: number;
  serverId: number;
  dir: string;
  semisync: Semisync;
  /** Seconds (default TEST_SLAVE_NET_TIMEOUT_S, 4); MariaDB's own default is 60. */
  slaveNetTimeout?: number;
  /** The `ip netns` it runs in (the netns layout); none: the root namespace. */
  netns?: string;
  logins: Record<Login, Credentials>;
}

/** One mariadbd we own: its files live under `dir`, and it is only ever signalled by its PID. */
export class Server extends OwnedProcess {
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

  constructor(private readonly spec: ServerSpec) {
    super();
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

  get semisync(): Semisync {
    return this.spec.semisync;
  }

  async writeConfig(): Promise<void> {
    const { semisync, slaveNetTimeout = TEST_SLAVE_NET_TIMEOUT_S } = this.spec;
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
    await writeFile(this.configFile, renderMyCnf({ ...this, semisync, slaveNetTimeout }));
  }

  /** Starts mariadbd on its datadir and resolves once it accepts connections. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.isRunning) throw new Error(`${this.name} is already running`);
    // --defaults-file must come first; it also keeps /etc/mysql out of the picture.
    const command = [MARIADBD, `--defaults-file=${this.configFile}`];
    // `ip netns exec` execs mariadbd in place: the PID we get is mariadbd's own.
    if (this.spec.netns) command.unshift('ip', 'netns', 'exec', this.spec.netns);
    this.adopt(spawn(command[0] as string, command.slice(1), { stdio: 'ignore', detached: true }));
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

  /** Clean shutdown, SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    try {
      await this.kill('SIGTERM', timeoutMs);
    } catch {
      await this.kill('SIGKILL');
    }
  }

  /** Same datadir and config; a server started read-only comes back read-only. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** A connection the caller must end(); `root` goes through the socket, the others over TCP like real clients. */
  connect({ as = 'pullover', connectTimeoutMs = 5000, localAddress }: ConnectOptions = {}): Promise<Connection> {
    const { user, password } = this.spec.logins[as];
    const where = as === 'root' ? { socketPath: this.socket } : tcpTarget(this.address, this.port, localAddress);
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

/**
 * mysql2's options to reach `host:port` over TCP from `localAddress` (or wherever routing picks):
 * mysql2 accepts a `localAddress` option but does not pass it to the socket.
 */
export function tcpTarget(host: string, port: number, localAddress?: string): ConnectionOptions {
  if (localAddress === undefined) return { host, port };
  return {
    host,
    port,
    stream: () => connectTcp({ host, port, localAddress, noDelay: true }),
  };
}
