import type { ClusterConfig, ServerConfig } from '../config/load.js';
import type { Authority } from '../ha/authority.js';
import type { ReplicaStatus } from '../mysql/dialect.js';
import { type Endpoint, failureOf, type MysqlFailure, MysqlSession } from '../mysql/session.js';
import type { ServerObservation } from './observation.js';

export type PingType = ClusterConfig['monitor']['ping'];

export interface Login {
  readonly user: string;
  readonly password: string;
}

/**
 * The controller's connections to one cluster's servers, one kept open per server and reopened
 * after any failure. Every call is bounded by the monitor timeout (or the one given).
 */
export class ClusterObserver {
  readonly #sessions = new Map<string, MysqlSession>();
  /** Idle connections to the master, never queried: a fence can be queued on one while it hangs. */
  readonly #idle = new Map<string, MysqlSession>();
  readonly #heartbeatReady = new WeakSet<MysqlSession>();

  constructor(
    readonly cluster: ClusterConfig,
    readonly login: Login,
    readonly now: () => Date = () => new Date(),
    /** The controller's right to act: without it (check), sessions are not gated. */
    readonly authority?: Authority,
    /** Takes the cluster's MySQL-side lock before a session's first change (act-lock.ts). */
    readonly claim?: Endpoint['claim'],
  ) {}

  /** Whether this controller may change the servers now (alone, always; on etcd, while it leads). */
  get acting(): boolean {
    return (this.authority?.timeLeftMs() ?? 1) > 0;
  }

  get timeoutMs(): number {
    return this.cluster.monitor.timeout;
  }

  server(name: string): ServerConfig {
    const server = this.cluster.servers.find((s) => s.name === name);
    if (!server) throw new Error(`cluster ${this.cluster.name} has no server ${name}`);
    return server;
  }

  #endpoint(name: string): Endpoint {
    const { authority, claim } = this;
    const { address: host } = this.server(name);
    const gate = { ...(authority ? { authority } : {}), ...(claim ? { claim } : {}) };
    return { name, host, port: this.cluster.mysql.port, ...this.login, ...gate };
  }

  /** The open session to `name`, or a new one (its greeting awaited `connectTimeoutMs`). Throws MysqlFailure. */
  async session(name: string, timeoutMs = this.timeoutMs, connectTimeoutMs = timeoutMs): Promise<MysqlSession> {
    const open = this.#sessions.get(name);
    if (open?.usable) return open;
    this.#sessions.delete(name);
    const session = await MysqlSession.open(this.#endpoint(name), timeoutMs, connectTimeoutMs);
    // Several callers may have opened one at once (the fencer overlaps its attempts): one is kept.
    const won = this.#sessions.get(name);
    if (won?.usable) {
      void session.close();
      return won;
    }
    this.#sessions.set(name, session);
    return session;
  }

  /**
   * Keeps one idle connection open to `name` (the master). A hung server keeps its accepted
   * sockets: a fence written into one runs the moment the process wakes up, ahead of any
   * reconnecting client. Idle, so no timed-out query can ever leave it in doubt. And when mysqld
   * dies, its kernel closes the socket: `onLost` hears of it before the next ping is due.
   */
  async keepIdleConnection(name: string, onLost: () => void): Promise<void> {
    if (this.#idle.get(name)?.usable) return;
    const session = await MysqlSession.open(this.#endpoint(name), this.timeoutMs).catch(() => undefined);
    if (!session) return;
    session.onLost(onLost);
    this.#idle.set(name, session);
  }

  /** Takes the idle connection to `name` away from the observer, or undefined when none is open. */
  takeIdleConnection(name: string): MysqlSession | undefined {
    const idle = this.#idle.get(name);
    this.#idle.delete(name);
    return idle?.usable ? idle : undefined;
  }

  /** One liveness check of the kind configured (MHA's ping_type). Throws MysqlFailure. */
  async ping(name: string, type: PingType): Promise<void> {
    try {
      if (type === 'connect') {
        // A fresh login proves what pooled clients need: mysqld accepts new connections.
        const fresh = await MysqlSession.open(this.#endpoint(name), this.timeoutMs);
        await fresh.close();
        return;
      }
      const session = await this.session(name);
      // A controller that does not lead writes nothing, not even the heartbeat row.
      if (type === 'select' || !this.acting) {
        await session.query('SELECT 1');
        return;
      }
      if (!this.#heartbeatReady.has(session)) {
        await session.run([
          'CREATE DATABASE IF NOT EXISTS pullover',
          'CREATE TABLE IF NOT EXISTS pullover.heartbeat (id TINYINT PRIMARY KEY, at DATETIME(6) NOT NULL)',
        ]);
        this.#heartbeatReady.add(session);
      }
      // A write proves what a select cannot: the disk and the binlog accept commits.
      await session.query('REPLACE INTO pullover.heartbeat VALUES (1, NOW(6))');
    } catch (error) {
      const failure = failureOf(name, error);
      // mysqld answered and said no (bad password, too many connections): it is alive. So is one
      // that refuses the insert ping for being read_only: the detector names that state itself.
      if (failure.kind === 'rejected' || (error as { code?: string }).code === 'ER_OPTION_PREVENTS_STATEMENT') return;
      throw failure;
    }
  }

  async observe(name: string): Promise<ServerObservation> {
    const server = this.server(name);
    const at = this.now();
    try {
      const session = await this.session(name);
      const [overview] = await session.query<{ read_only: string | number; gtid: string }[]>(session.dialect.overview);
      const [status] = await session.query<Record<string, unknown>[]>(session.dialect.replicaStatus);
      type Binlog = { log_bin: string | number; log_replica_updates: string | number };
      const [binlog] = await session.query<Binlog[]>(session.dialect.binlogSettings);
      const replica = status ? await this.#replicaStatus(session, status) : null;
      return {
        name,
        address: server.address,
        at,
        reachable: true,
        flavor: session.dialect.flavor,
        version: session.version,
        readOnly: Number(overview?.read_only) === 1,
        executedGtid: String(overview?.gtid ?? ''),
        writesReplicatedToBinlog: Number(binlog?.log_bin) === 1 && Number(binlog?.log_replica_updates) === 1,
        replica,
      };
    } catch (error) {
      const failure: MysqlFailure = failureOf(name, error);
      const { kind, message } = failure;
      return { name, address: server.address, at, reachable: false, failure: { kind, message } };
    }
  }

  /** SHOW SLAVE STATUS's row, with the heartbeat count that tells a silent master from an idle one. */
  async #replicaStatus(session: MysqlSession, row: Record<string, unknown>): Promise<ReplicaStatus> {
    const status = session.dialect.parseReplicaStatus(row);
    const rows = await session.query<Record<string, unknown>[]>(session.dialect.heartbeats);
    const heartbeats = session.dialect.parseHeartbeats(rows);
    return heartbeats ? { ...status, heartbeats } : status;
  }

  observeAll(names: readonly string[] = this.cluster.servers.map((s) => s.name)): Promise<ServerObservation[]> {
    return Promise.all(names.map((n) => this.observe(n)));
  }

  close(): void {
    for (const session of [...this.#sessions.values(), ...this.#idle.values()]) session.destroy();
    this.#sessions.clear();
    this.#idle.clear();
  }
}
