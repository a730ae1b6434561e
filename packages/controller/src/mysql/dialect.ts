import type { Flavor, Holdings } from './gtid.js';
import { fenceAlone } from './fence-block.js';

// Every statement pullover sends, per flavor. Pure: tests check the exact SQL for MySQL 8.0/8.4
// without a MySQL server, and the MariaDB side runs for real in the integration tests.

export interface Statement {
  readonly sql: string;
  readonly values?: readonly unknown[];
}

/** A replica's replication state, the same shape for both flavors. */
export interface ReplicaStatus {
  readonly masterHost: string;
  readonly masterPort: number;
  /** 'connecting': the IO thread runs but has no working connection to its master. */
  readonly io: 'yes' | 'connecting' | 'no';
  readonly sqlRunning: boolean;
  /** MASTER_DELAY: a delayed replica is a safety copy, never a master. */
  readonly sqlDelay: number;
  /**
   * Bytes of the master's binlog received but not yet applied (Infinity when the SQL thread is a
   * whole binlog file behind): what the new master must apply before it can take writes.
   */
  readonly applyBacklogBytes: number;
  /** What it has received from its master (relay log included). */
  readonly receivedGtid: string;
  readonly lastIoErrno: number;
  readonly lastIoError: string;
  readonly lastSqlErrno: number;
  readonly lastSqlError: string;
  readonly secondsBehind: number | null;
  /** Replicating by GTID (MariaDB Using_Gtid Slave_Pos/Current_Pos, MySQL Auto_Position 1). */
  readonly usesGtid: boolean;
  /** Where the IO thread has read up to in the master's binlog (file:position): it moves with every event. */
  readonly receivedPosition: string;
  /** From a second query (see Dialect.heartbeats); undefined where it could not be read. */
  readonly heartbeats?: Heartbeats;
}

/** The replica's side of the master's heartbeat: an idle master sends one every `periodMs`. */
export interface Heartbeats {
  /** Heartbeats received since the IO thread last connected. */
  readonly received: number;
  readonly periodMs: number;
}

export interface ReplicationSource {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /**
   * MASTER_HEARTBEAT_PERIOD in seconds: an idle master sends a heartbeat this often, so a replica
   * that hears nothing for longer has lost it even while its IO thread still says Yes.
   */
  readonly heartbeatS: number;
}

export interface Dialect {
  readonly flavor: Flavor;
  /** One row: read_only and the executed GTID position. */
  readonly overview: string;
  readonly replicaStatus: string;
  parseReplicaStatus(row: Record<string, unknown>): ReplicaStatus;
  /** Rows (MariaDB: status variables; MySQL: one) with the default channel's heartbeat count and period. */
  readonly heartbeats: string;
  parseHeartbeats(rows: readonly Record<string, unknown>[]): Heartbeats | undefined;
  /**
   * Connection ids of the replication IO threads. STOP SLAVE on an IO thread blocked on a hung
   * master waits about 2 s (MariaDB re-signals it every 2 s); KILL of its connection ends it at once.
   */
  readonly receiverConnections: string;
  /** Writes refused for everyone but replication (super_read_only on MySQL). */
  readonly fence: readonly string[];
  /**
   * The fence given up by the server itself after `seconds` (a fraction is fine), or null where only
   * lock_wait_timeout, in whole seconds, can bound it (MySQL).
   */
  fenceWithin(seconds: number): readonly string[] | null;
  /** Stop replicating and forget the old master (writes are allowed after, with `unfence`: see promoteServer). */
  readonly promote: readonly string[];
  readonly stopReplica: string;
  changeMaster(source: ReplicationSource): Statement;
  /** The shortest sequence that changes only the heartbeat period of a running replica. */
  setHeartbeat(seconds: number): readonly string[];
  readonly startReplica: string;
  /** A one-row, one-column query: 0 once `gtid` is executed, otherwise (timeout) something else. */
  waitForGtid(gtid: string, timeoutS: number): Statement;
  /** One row: the transactions the server holds, by who wrote them as far as the flavor records it (rejoin). */
  readonly holdings: string;
  parseHoldings(row: Record<string, unknown>): Holdings;
  /** Writes allowed again: a switchover rolled back. */
  readonly unfence: readonly string[];
  /**
   * Before a former master replicates: what it executed as a master is where it starts from.
   * (MariaDB keeps that in gtid_binlog_pos, not gtid_slave_pos; MySQL's auto-position needs nothing.)
   */
  readonly adoptExecutedPosition: readonly string[];
  /** Client sessions to kill when fencing: everything but replication and system threads. */
  readonly clientSessions: string;
  /**
   * The whole fence as one statement the server carries out alone (fence-block.ts): queued on a hung master's socket, it runs at the thaw
   * even if the controller is gone by then. Null where the server has no anonymous blocks (MySQL).
   */
  readonly fenceAlone: string | null;
  /** One row: log_bin and log_replica_updates: a donor must write what it received to its binlog to serve it. */
  readonly binlogSettings: string;
  /** Stop receiving from the master, keep applying: nothing more arrives while positions are compared. */
  readonly stopReceiving: string;
  /** Receiving again, after a failover that stopped it could not go on. */
  readonly startReceiving: string;
  readonly startApplying: string;
}

function text(row: Record<string, unknown>, key: string): string {
  const v = row[key];
  return v === null || v === undefined ? '' : String(v);
}

function num(row: Record<string, unknown>, key: string): number {
  const v = Number(row[key]);
  return Number.isFinite(v) ? v : 0;
}

function io(value: string): ReplicaStatus['io'] {
  if (value === 'Yes') return 'yes';
  if (value === 'Connecting' || value === 'Preparing') return 'connecting';
  return 'no';
}

/** MHA's measure: received minus executed position in the master's binlog, when both are in one file. */
function backlog(row: Record<string, unknown>, [readFile, readPos, execFile, execPos]: readonly string[]): number {
  if (text(row, readFile as string) !== text(row, execFile as string)) return Infinity;
  return Math.max(0, num(row, readPos as string) - num(row, execPos as string));
}

function heartbeats(received: unknown, periodS: unknown): Heartbeats | undefined {
  const count = Number(received);
  const period = Number(periodS);
  if (received === undefined || periodS === undefined) return undefined;
  if (!Number.isFinite(count) || !Number.isFinite(period)) return undefined;
  return { received: count, periodMs: Math.round(period * 1000) };
}

function lag(row: Record<string, unknown>, key: string): number | null {
  const v = row[key];
  return v === null || v === undefined || v === '' ? null : Number(v);
}

// Replication threads and the server's own: killing those would break what fencing must keep.
const KEEP = `user <> 'system user' AND command NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker') AND id <> CONNECTION_ID()`;

export const MARIADB: Dialect = {
  flavor: 'mariadb',
  overview: 'SELECT @@GLOBAL.read_only AS read_only, @@GLOBAL.gtid_current_pos AS gtid',
  replicaStatus: 'SHOW SLAVE STATUS',
  parseReplicaStatus: (row) => ({
    masterHost: text(row, 'Master_Host'),
    masterPort: num(row, 'Master_Port'),
    io: io(text(row, 'Slave_IO_Running')),
    sqlRunning: text(row, 'Slave_SQL_Running') === 'Yes',
    sqlDelay: num(row, 'SQL_Delay'),
    applyBacklogBytes: backlog(row, ['Master_Log_File', 'Read_Master_Log_Pos', 'Relay_Master_Log_File', 'Exec_Master_Log_Pos']),
    receivedGtid: text(row, 'Gtid_IO_Pos'),
    lastIoErrno: num(row, 'Last_IO_Errno'),
    lastIoError: text(row, 'Last_IO_Error'),
    lastSqlErrno: num(row, 'Last_SQL_Errno'),
    lastSqlError: text(row, 'Last_SQL_Error'),
    secondsBehind: lag(row, 'Seconds_Behind_Master'),
    usesGtid: text(row, 'Using_Gtid') !== 'No' && text(row, 'Using_Gtid') !== '',
    receivedPosition: `${text(row, 'Master_Log_File')}:${text(row, 'Read_Master_Log_Pos')}`,
  }),
  // The status variables describe the default connection, the one pullover manages.
  heartbeats: `SHOW GLOBAL STATUS WHERE Variable_name IN ('Slave_received_heartbeats', 'Slave_heartbeat_period')`,
  parseHeartbeats: (rows) => {
    const value = (name: string) => rows.find((r) => text(r, 'Variable_name') === name)?.['Value'];
    return heartbeats(value('Slave_received_heartbeats'), value('Slave_heartbeat_period'));
  },
  receiverConnections: `SELECT id FROM information_schema.processlist WHERE command = 'Slave_IO'`,
  fence: ['SET GLOBAL read_only=ON'],
  fenceWithin: (seconds) => [`SET STATEMENT max_statement_time=${seconds} FOR SET GLOBAL read_only=ON`],
  unfence: ['SET GLOBAL read_only=OFF'],
  adoptExecutedPosition: ['SET GLOBAL gtid_slave_pos = @@GLOBAL.gtid_current_pos'],
  promote: ['STOP SLAVE', 'RESET SLAVE ALL'],
  stopReplica: 'STOP SLAVE',
  changeMaster: (s) => ({
    // MASTER_CONNECT_RETRY=1: the default 60 s would leave a replica idle for a minute after a blip.
    sql: 'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=?',
    values: [s.host, s.port, s.user, s.password, s.heartbeatS],
  }),
  // MariaDB refuses CHANGE MASTER while either thread runs.
  setHeartbeat: (seconds) => ['STOP SLAVE', `CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=${seconds}`, 'START SLAVE'],
  startReplica: 'START SLAVE',
  waitForGtid: (gtid, timeoutS) => ({ sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS r', values: [gtid, timeoutS] }),
  // gtid_current_pos keeps one GTID per domain; the binlog state one per domain and server id.
  holdings: 'SELECT @@GLOBAL.gtid_binlog_state AS binlog_state, @@GLOBAL.gtid_current_pos AS executed, @@GLOBAL.gtid_slave_pos AS slave_pos, @@GLOBAL.log_bin AS log_bin, @@GLOBAL.log_slave_updates AS log_slave_updates',
  parseHoldings: (row) => ({
    executed: text(row, 'executed'),
    binlogState: text(row, 'binlog_state'),
    slavePos: text(row, 'slave_pos'),
    logBin: num(row, 'log_bin') === 1,
    logSlaveUpdates: num(row, 'log_slave_updates') === 1,
  }),
  clientSessions: `SELECT id, user, host FROM information_schema.processlist WHERE ${KEEP}`,
  fenceAlone: fenceAlone(KEEP),
  binlogSettings: 'SELECT @@GLOBAL.log_bin AS log_bin, @@GLOBAL.log_slave_updates AS log_replica_updates',
  stopReceiving: 'STOP SLAVE IO_THREAD',
  startReceiving: 'START SLAVE IO_THREAD',
  startApplying: 'START SLAVE SQL_THREAD',
};

export const MYSQL: Dialect = {
  flavor: 'mysql',
  overview: 'SELECT @@GLOBAL.read_only AS read_only, @@GLOBAL.gtid_executed AS gtid',
  replicaStatus: 'SHOW REPLICA STATUS',
  parseReplicaStatus: (row) => ({
    masterHost: text(row, 'Source_Host'),
    masterPort: num(row, 'Source_Port'),
    io: io(text(row, 'Replica_IO_Running')),
    sqlRunning: text(row, 'Replica_SQL_Running') === 'Yes',
    sqlDelay: num(row, 'SQL_Delay'),
    applyBacklogBytes: backlog(row, ['Source_Log_File', 'Read_Source_Log_Pos', 'Relay_Source_Log_File', 'Exec_Source_Log_Pos']),
    // What was received but not yet applied is in the relay log: the union is what it holds.
    receivedGtid: [text(row, 'Executed_Gtid_Set'), text(row, 'Retrieved_Gtid_Set')].filter((s) => s !== '').join(','),
    lastIoErrno: num(row, 'Last_IO_Errno'),
    lastIoError: text(row, 'Last_IO_Error'),
    lastSqlErrno: num(row, 'Last_SQL_Errno'),
    lastSqlError: text(row, 'Last_SQL_Error'),
    secondsBehind: lag(row, 'Seconds_Behind_Source'),
    usesGtid: text(row, 'Auto_Position') === '1',
    receivedPosition: `${text(row, 'Source_Log_File')}:${text(row, 'Read_Source_Log_Pos')}`,
  }),
  heartbeats: `SELECT s.COUNT_RECEIVED_HEARTBEATS AS received, c.HEARTBEAT_INTERVAL AS period
    FROM performance_schema.replication_connection_status s
    JOIN performance_schema.replication_connection_configuration c USING (CHANNEL_NAME) WHERE CHANNEL_NAME = ''`,
  parseHeartbeats: ([row]) => (row ? heartbeats(row['received'], row['period']) : undefined),
  receiverConnections: `SELECT t.PROCESSLIST_ID AS id FROM performance_schema.threads t
    WHERE t.NAME IN ('thread/sql/replica_io', 'thread/sql/slave_io') AND t.PROCESSLIST_ID IS NOT NULL`,
  // super_read_only also stops accounts with SUPER (often the application's, on MySQL) from writing.
  fence: ['SET GLOBAL super_read_only=ON'],
  fenceWithin: () => null,
  unfence: ['SET GLOBAL super_read_only=OFF', 'SET GLOBAL read_only=OFF'],
  adoptExecutedPosition: [],
  promote: ['STOP REPLICA', 'RESET REPLICA ALL'],
  stopReplica: 'STOP REPLICA',
  changeMaster: (s) => ({
    sql: 'CHANGE REPLICATION SOURCE TO SOURCE_HOST=?, SOURCE_PORT=?, SOURCE_USER=?, SOURCE_PASSWORD=?, SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_HEARTBEAT_PERIOD=?',
    values: [s.host, s.port, s.user, s.password, s.heartbeatS],
  }),
  // MySQL changes the heartbeat with only the receiver stopped: the applier goes on.
  setHeartbeat: (seconds) => ['STOP REPLICA IO_THREAD', `CHANGE REPLICATION SOURCE TO SOURCE_HEARTBEAT_PERIOD=${seconds}`, 'START REPLICA IO_THREAD'],
  startReplica: 'START REPLICA',
  waitForGtid: (gtid, timeoutS) => ({ sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', values: [gtid, timeoutS] }),
  // gtid_executed is already a set per server uuid, complete whatever log_replica_updates says.
  holdings: 'SELECT @@GLOBAL.gtid_executed AS executed',
  parseHoldings: (row) => ({ executed: text(row, 'executed') }),
  // Replication applier threads run as 'system user' on MySQL 8, so the same filter keeps them.
  clientSessions: `SELECT id, user, host FROM information_schema.processlist WHERE ${KEEP}`,
  fenceAlone: null,
  binlogSettings: 'SELECT @@GLOBAL.log_bin AS log_bin, @@GLOBAL.log_replica_updates AS log_replica_updates',
  stopReceiving: 'STOP REPLICA IO_THREAD',
  startReceiving: 'START REPLICA IO_THREAD',
  startApplying: 'START REPLICA SQL_THREAD',
};

/** From SELECT VERSION(): "10.11.6-MariaDB-0+deb12u1" is MariaDB; "8.0.36", "8.4.0" MySQL. */
export function dialectFor(version: string): Dialect {
  return /mariadb/i.test(version) ? MARIADB : MYSQL;
}
