import { readFile } from 'node:fs/promises';
import { type Connection, createConnection } from 'mysql2/promise';
import { type Credentials, type Server, tcpTarget } from './server.js';

/** The address a hosts file gives `hostname`, as glibc reads it: the first non-comment line naming it wins. */
export function addressIn(hostsFile: string, hostname: string): string | undefined {
  const wanted = hostname.toLowerCase();
  for (const line of hostsFile.split(/\r?\n/)) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length > 1 && fields.slice(1).some((name) => name.toLowerCase() === wanted)) return fields[0];
  }
  return undefined;
}

export interface AcknowledgedWrite {
  /** The row's app.writes.id, numbered by the writer: one number per attempt, never reused. */
  id: number;
  /** Where the hostname pointed when the connection that wrote it was opened. */
  address: string;
  /** @@server_id of the server that connection reached: an address can change hands. */
  serverId: number;
  /** Date.now() when the server's OK arrived. */
  at: number;
}

/**
 * ok: the server acknowledged it. failed: it surely did not commit (no connection, or the server
 * refused the statement). indeterminate: it may have committed (timed out, connection lost,
 * killed while waiting for a semi-sync ack).
 */
export type WriteOutcome = 'ok' | 'failed' | 'indeterminate';

export interface WriteAttempt {
  id: number;
  /** Date.now() when the attempt began (connecting, or sending the INSERT). */
  start: number;
  /** Date.now() when its outcome was known. */
  end: number;
  outcome: WriteOutcome;
  /** '' when the hostname could not be looked up. */
  address: string;
  /** undefined when no server answered. */
  serverId?: number;
  error?: string;
}

export interface WriterOptions {
  /** An app server's hosts file: the hostname is looked up in it for every new connection. */
  hostsFile: string;
  hostname: string;
  port: number;
  login: Credentials;
  /** Pause after each insert and after each failure (default 10 ms): a steady load, not a CPU hog. */
  pauseMs?: number;
  /** The first row id (default 1): writers sharing a table need disjoint ids. */
  firstId?: number;
  /** The address it connects from: an app host of its own on the netns layout (a spare address). */
  localAddress?: string;
}

// Server errors that interrupt a statement rather than refuse it: the commit may have happened.
const INTERRUPTED = new Set([
  1053, // ER_SERVER_SHUTDOWN
  1317, // ER_QUERY_INTERRUPTED
  1927, // ER_CONNECTION_KILLED: fencing kills the connections of a master waiting for an ack
]);

function outcomeOf(err: { errno?: number; sqlState?: string }, sent: boolean): WriteOutcome {
  if (!sent) return 'failed';
  const refused = err.sqlState !== undefined && err.errno !== undefined && !INTERRUPTED.has(err.errno);
  return refused ? 'failed' : 'indeterminate';
}

/**
 * An application writing through the master hostname: it resolves the name from a hosts file when
 * it connects, inserts numbered rows into app.writes one at a time, remembers every insert the
 * server acknowledged, and on any error drops the connection and connects again (resolving anew).
 */
export class HostnameWriter {
  readonly acknowledged: AcknowledgedWrite[] = [];
  /** Every attempt with its outcome, in the order they began: the history a checker judges. */
  readonly attempts: WriteAttempt[] = [];
  failures = 0;
  lastFailure = '';
  /** Date.now() of every failed attempt: when the application saw errors. */
  readonly failedAt: number[] = [];
  #nextId: number;
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(private readonly opts: WriterOptions) {
    this.#nextId = opts.firstId ?? 1;
  }

  start(): this {
    this.#running = true;
    this.#loop = this.#run();
    return this;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Acknowledged ids that `server`'s app.writes does not hold: lost writes, if it is the master. */
  async missingOn(server: Server): Promise<number[]> {
    const rows = await server.query<{ id: number }[]>('SELECT id FROM app.writes');
    const present = new Set(rows.map((r) => Number(r.id)));
    return this.acknowledged.map((w) => w.id).filter((id) => !present.has(id));
  }

  async #run(): Promise<void> {
    const { hostsFile, hostname, port, login, pauseMs = 10, localAddress } = this.opts;
    let conn: Connection | undefined;
    let address = '';
    let serverId: number | undefined;
    while (this.#running) {
      const id = this.#nextId++;
      const start = Date.now();
      let sent = false;
      try {
        if (conn === undefined) {
          serverId = undefined;
          address = addressIn(await readFile(hostsFile, 'utf8'), hostname) ?? '';
          if (!address) throw new Error(`${hostname} is not in ${hostsFile}`);
          conn = await createConnection({ ...tcpTarget(address, port, localAddress), ...login, connectTimeout: 1000 });
          const [rows] = await conn.query({ sql: 'SELECT @@server_id AS id', timeout: 2000 });
          serverId = Number((rows as { id: number }[])[0]?.id);
        }
        sent = true;
        await conn.query({ sql: 'INSERT INTO app.writes (id, v) VALUES (?, ?)', values: [id, address], timeout: 2000 });
        const at = Date.now();
        this.acknowledged.push({ id, address, serverId: serverId as number, at });
        this.attempts.push({ id, start, end: at, outcome: 'ok', address, serverId });
      } catch (err) {
        const end = Date.now();
        this.failures++;
        this.failedAt.push(end);
        this.lastFailure = `${address || hostname}: ${(err as Error).message}`;
        const outcome = outcomeOf(err as { errno?: number; sqlState?: string }, sent);
        this.attempts.push({ id, start, end, outcome, address, serverId, error: (err as Error).message });
        conn?.destroy();
        conn = undefined;
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    await conn?.end().catch(() => conn?.destroy());
  }
}
