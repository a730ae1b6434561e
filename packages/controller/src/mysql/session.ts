import type { Connection as CallbackConnection } from 'mysql2';
import { type Connection, createConnection } from 'mysql2/promise';
import { actingTimeout, type Authority } from '../ha/authority.js';
import { type Dialect, dialectFor, type Statement } from './dialect.js';

export interface Endpoint {
  /** The server's name in the config, for messages. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /**
   * The controller's right to act, when the session is one of its own: every statement but a read
   * is refused without it, and bounded by the time it has left (a lease on etcd).
   */
  readonly authority?: Authority;
  /**
   * Called before the first change on each session (an acting controller's): takes the cluster's
   * MySQL-side lock, so that a second controller cannot act on the server too (act-lock.ts).
   */
  readonly claim?: (session: MysqlSession, timeoutMs: number) => Promise<void>;
}

/** Statements that only look: anything else changes the server. */
const READS = /^\s*(SELECT|SHOW)\b/i;

/** Why a server did not answer, as the detector weighs it. */
export type FailureKind =
  /** Nothing listens at the address: the host is up, mysqld is not. Quick and sure. */
  | 'refused'
  /** No answer in time: a dead host, a partition, or a hung (SIGSTOPped, swapping) mysqld. */
  | 'timeout'
  /** mysqld answered and refused us (wrong password, too many connections): it is alive. */
  | 'rejected'
  | 'error';

export class MysqlFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly server: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MysqlFailure';
  }
}

// mysqld's own refusals: it is up and speaking the protocol.
const REJECTIONS = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_CON_COUNT_ERROR', 'ER_HOST_IS_BLOCKED', 'ER_HOST_NOT_PRIVILEGED', 'ER_DBACCESS_DENIED_ERROR']);

export function failureOf(server: string, error: unknown): MysqlFailure {
  if (error instanceof MysqlFailure) return error;
  const code = (error as { code?: string } | null)?.code ?? '';
  const message = (error as Error | null)?.message ?? String(error);
  const kind: FailureKind =
    code === 'ECONNREFUSED'
      ? 'refused'
      : code === 'ETIMEDOUT' || code === 'PROTOCOL_SEQUENCE_TIMEOUT'
        ? 'timeout'
        : REJECTIONS.has(code)
          ? 'rejected'
          : 'error';
  return new MysqlFailure(kind, server, `${server}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, { cause: error });
}

/** The connection under mysql2's promise wrapper, whose typings do not show it: it knows its state. */
function core(conn: Connection): CallbackConnection {
  return (conn as unknown as { connection: CallbackConnection }).connection;
}

/**
 * One connection to one server. Every call is bounded: mysql2 never times out a query by itself,
 * and a hung master must cost the controller a timeout, not a stuck loop.
 */
export class MysqlSession {
  #broken = false;
  #closing = false;
  /** The cluster's lock is held on this connection (it lives as long as the connection). */
  #claimed = false;
  /** While claiming (its own KILL must not claim again) or fencing: changes need no lock. */
  #unclaimed = 0;

  private constructor(
    readonly endpoint: Endpoint,
    readonly dialect: Dialect,
    readonly version: string,
    readonly connectionId: number,
    readonly timeoutMs: number,
    private readonly conn: Connection,
  ) {
    // A connection the server closed (or that broke) is never reused: mysql2 may accept a query on
    // it and fail it with "write after end" forever, hiding a server that answers fresh connections.
    for (const event of ['error', 'end'] as const) {
      conn.on(event, () => {
        this.#broken = true;
      });
    }
  }

  /** `connectTimeoutMs`: how long to wait for mysqld's greeting, when it should be shorter than a query's bound. */
  static async open(endpoint: Endpoint, timeoutMs: number, connectTimeoutMs = timeoutMs): Promise<MysqlSession> {
    let conn: Connection | undefined;
    try {
      conn = await createConnection({
        host: endpoint.host,
        port: endpoint.port,
        user: endpoint.user,
        password: endpoint.password,
        connectTimeout: connectTimeoutMs,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
      });
      const [rows] = await conn.query({ sql: 'SELECT VERSION() AS v, CONNECTION_ID() AS id', timeout: timeoutMs });
      const row = (rows as { v: string; id: string | number }[])[0];
      return new MysqlSession(endpoint, dialectFor(String(row?.v)), String(row?.v), Number(row?.id), timeoutMs, conn);
    } catch (error) {
      conn?.destroy();
      throw failureOf(endpoint.name, error);
    }
  }

  get usable(): boolean {
    return !this.#broken && core(this.conn).state === 'authenticated';
  }

  /** Calls `listener` once, when the server closes the connection or it breaks (not on our own close). */
  onLost(listener: () => void): void {
    let called = false;
    const once = () => {
      if (called || this.#closing) return;
      called = true;
      listener();
    };
    this.conn.on('end', once);
    this.conn.on('error', once);
  }

  async query<T = Record<string, unknown>[]>(statement: string | Statement, timeoutMs = this.timeoutMs): Promise<T> {
    const { sql, values } = typeof statement === 'string' ? { sql: statement, values: undefined } : statement;
    const { authority, claim } = this.endpoint;
    if (authority && !READS.test(sql)) {
      timeoutMs = actingTimeout(authority, timeoutMs);
      if (claim && !this.#claimed && this.#unclaimed === 0) {
        await this.unclaimed(() => claim(this, timeoutMs));
        this.#claimed = true;
      }
    }
    try {
      const [rows] = await this.conn.query({ sql, values: values as unknown[] | undefined, timeout: timeoutMs });
      return rows as T;
    } catch (error) {
      const failure = failureOf(this.endpoint.name, error);
      // Only an SQL error the server answered leaves the connection as it was. After a timeout the
      // reply may still arrive and would be read as the next query's answer; after a network error
      // the connection is gone.
      const e = error as { sqlState?: unknown; fatal?: unknown };
      const answered = typeof e.sqlState === 'string' && e.sqlState !== '' && e.fatal !== true;
      if (failure.kind !== 'rejected' && !answered) this.destroy();
      throw failure;
    }
  }

  /**
   * Runs `fn`, whose changes need not hold the cluster's lock: the claim itself, and the fence of an
   * old master (it may be frozen with a deposed controller's lock; it is fenced all the same).
   */
  async unclaimed<T>(fn: () => Promise<T>): Promise<T> {
    this.#unclaimed++;
    try {
      return await fn();
    } finally {
      this.#unclaimed--;
    }
  }

  async run(statements: readonly (string | Statement)[], timeoutMs = this.timeoutMs): Promise<void> {
    for (const s of statements) await this.query(s, timeoutMs);
  }

  destroy(): void {
    this.#broken = true;
    this.#closing = true;
    this.conn.destroy();
  }

  async close(): Promise<void> {
    if (this.#broken) return;
    this.#broken = true;
    this.#closing = true;
    await this.conn.end().catch(() => this.conn.destroy());
  }
}
