import { format } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { replicaStatus } from './helpers.js';
import { dialectFor, MARIADB, MYSQL, type ReplicaStatus, type ReplicationSource } from '../src/mysql/dialect.js';

// The MariaDB statements also run against real servers in the integration tests; the MySQL ones run
// nowhere here, so this file is their only check. They follow MySQL 8.0.23+/8.4 syntax, where the
// MASTER/SLAVE spellings are deprecated (8.0) or gone (8.4).

const source: ReplicationSource = { host: '200.200.200.2', port: 3306, user: 'repl', password: 's3cret', heartbeatS: 0.5 };

describe('statements', () => {
  it.each([
    ['MariaDB fence', MARIADB.fence, ['SET GLOBAL read_only=ON']],
    // super_read_only=ON also sets read_only=ON, and stops accounts with SUPER / CONNECTION_ADMIN.
    ['MySQL fence', MYSQL.fence, ['SET GLOBAL super_read_only=ON']],
    ['MariaDB fence within 0.2 s', MARIADB.fenceWithin(0.2), ['SET STATEMENT max_statement_time=0.2 FOR SET GLOBAL read_only=ON']],
    // MySQL bounds it with lock_wait_timeout instead, in whole seconds.
    ['MySQL fence within 0.2 s', MYSQL.fenceWithin(0.2), null],
    ['MySQL has no fence to run alone', MYSQL.fenceAlone, null],
    ['MariaDB promote', MARIADB.promote, ['STOP SLAVE', 'RESET SLAVE ALL']],
    ['MySQL promote', MYSQL.promote, ['STOP REPLICA', 'RESET REPLICA ALL']],
    ['MariaDB stopReplica', MARIADB.stopReplica, 'STOP SLAVE'],
    ['MySQL stopReplica', MYSQL.stopReplica, 'STOP REPLICA'],
    ['MariaDB startReplica', MARIADB.startReplica, 'START SLAVE'],
    ['MySQL startReplica', MYSQL.startReplica, 'START REPLICA'],
    ['MariaDB overview', MARIADB.overview, 'SELECT @@GLOBAL.read_only AS read_only, @@GLOBAL.gtid_current_pos AS gtid'],
    ['MySQL overview', MYSQL.overview, 'SELECT @@GLOBAL.read_only AS read_only, @@GLOBAL.gtid_executed AS gtid'],
    ['MariaDB replicaStatus', MARIADB.replicaStatus, 'SHOW SLAVE STATUS'],
    ['MySQL replicaStatus', MYSQL.replicaStatus, 'SHOW REPLICA STATUS'],
    // MariaDB refuses CHANGE MASTER while either thread runs; MySQL needs only the receiver stopped.
    ['MariaDB setHeartbeat', MARIADB.setHeartbeat(1), ['STOP SLAVE', 'CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=1', 'START SLAVE']],
    ['MySQL setHeartbeat', MYSQL.setHeartbeat(0.5), ['STOP REPLICA IO_THREAD', 'CHANGE REPLICATION SOURCE TO SOURCE_HEARTBEAT_PERIOD=0.5', 'START REPLICA IO_THREAD']],
    ['MariaDB receivers', MARIADB.receiverConnections, 'SELECT id FROM information_schema.processlist WHERE command = \'Slave_IO\''],
    ['MariaDB startReceiving', MARIADB.startReceiving, 'START SLAVE IO_THREAD'],
    ['MySQL startReceiving', MYSQL.startReceiving, 'START REPLICA IO_THREAD'],
  ])('%s', (_name, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  it.each([
    [
      'MariaDB',
      MARIADB,
      'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=?',
      'CHANGE MASTER TO MASTER_HOST=\'200.200.200.2\', MASTER_PORT=3306, MASTER_USER=\'repl\', MASTER_PASSWORD=\'s3cret\', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=0.5',
    ],
    [
      // GET_SOURCE_PUBLIC_KEY=1: caching_sha2_password (the 8.x default) over plain TCP needs the key.
      'MySQL',
      MYSQL,
      'CHANGE REPLICATION SOURCE TO SOURCE_HOST=?, SOURCE_PORT=?, SOURCE_USER=?, SOURCE_PASSWORD=?, SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_HEARTBEAT_PERIOD=?',
      'CHANGE REPLICATION SOURCE TO SOURCE_HOST=\'200.200.200.2\', SOURCE_PORT=3306, SOURCE_USER=\'repl\', SOURCE_PASSWORD=\'s3cret\', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1, SOURCE_HEARTBEAT_PERIOD=0.5',
    ],
  ])('%s changeMaster: host, port, user, password, heartbeat in placeholder order', (_name, dialect, sql, sent) => {
    const statement = dialect.changeMaster(source);
    expect(statement).toEqual({ sql, values: ['200.200.200.2', 3306, 'repl', 's3cret', 0.5] });
    // What mysql2's query() sends (placeholders are filled in on the client): the port unquoted.
    expect(format(statement.sql, statement.values as (string | number)[])).toBe(sent);
  });

  it.each([
    [MARIADB, 'SELECT MASTER_GTID_WAIT(?, ?) AS r', '0-1-105,1-2-7'],
    [MYSQL, 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-105'],
  ])('$flavor waitForGtid: the position, then the timeout in seconds', (dialect, sql, gtid) => {
    // Both return 0 once executed; on timeout MASTER_GTID_WAIT returns -1, WAIT_FOR_EXECUTED_GTID_SET 1.
    expect(dialect.waitForGtid(gtid, 5)).toEqual({ sql, values: [gtid, 5] });
  });

  it.each([MARIADB, MYSQL])('$flavor clientSessions spares replication, system threads and itself', (dialect) => {
    expect(dialect.clientSessions).toBe(
      'SELECT id, user, host FROM information_schema.processlist WHERE user <> \'system user\' AND command NOT IN (\'Binlog Dump\', \'Binlog Dump GTID\', \'Daemon\', \'Slave_IO\', \'Slave_SQL\', \'Slave_worker\') AND id <> CONNECTION_ID()',
    );
  });
});

describe('dialectFor', () => {
  it.each([
    ['10.11.6-MariaDB-0+deb12u1', 'mariadb'],
    ['10.6.16-MariaDB-log', 'mariadb'],
    ['11.4.2-MariaDB', 'mariadb'],
    ['8.0.36', 'mysql'],
    ['8.4.0', 'mysql'],
    ['8.0.36-28 Percona Server', 'mysql'],
    ['8.0.36-0ubuntu0.22.04.1', 'mysql'],
  ])('%s is %s', (version, flavor) => {
    const dialect = dialectFor(version);
    expect(dialect.flavor).toBe(flavor);
    expect(dialect).toBe(flavor === 'mariadb' ? MARIADB : MYSQL);
  });
});

// Rows as mysql2 returns them (text protocol, bigNumberStrings: BIGINT columns such as
// Seconds_Behind_Master arrive as strings), trimmed of columns pullover does not read.
const mariadbRow: Record<string, unknown> = {
  Slave_IO_State: 'Waiting for master to send event',
  Master_Host: '200.200.200.2',
  Master_User: 'repl',
  Master_Port: 3306,
  Connect_Retry: 1,
  Master_Log_File: 'mysql-bin.000003',
  Read_Master_Log_Pos: '1234',
  Relay_Master_Log_File: 'mysql-bin.000003',
  Exec_Master_Log_Pos: '1234',
  Slave_IO_Running: 'Yes',
  Slave_SQL_Running: 'Yes',
  Last_Errno: 0,
  Last_Error: '',
  Seconds_Behind_Master: '0',
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 0,
  Last_SQL_Error: '',
  Master_Server_Id: 2,
  Using_Gtid: 'Slave_Pos',
  Gtid_IO_Pos: '0-2-105',
  Slave_SQL_Running_State: 'Slave has read all relay log; waiting for more updates',
};

const mysqlRow: Record<string, unknown> = {
  Replica_IO_State: 'Waiting for source to send event',
  Source_Host: '200.200.200.2',
  Source_User: 'repl',
  Source_Port: 3306,
  Connect_Retry: 1,
  Source_Log_File: 'binlog.000003',
  Read_Source_Log_Pos: '1234',
  Relay_Source_Log_File: 'binlog.000003',
  Exec_Source_Log_Pos: '1234',
  Replica_IO_Running: 'Yes',
  Replica_SQL_Running: 'Yes',
  Last_Errno: 0,
  Last_Error: '',
  Seconds_Behind_Source: '0',
  Last_IO_Errno: 0,
  Last_IO_Error: '',
  Last_SQL_Errno: 0,
  Last_SQL_Error: '',
  Source_Server_Id: 2,
  Source_UUID: '4d8b564f-03f4-4975-856a-0e65c3105328',
  Replica_SQL_Running_State: 'Replica has read all relay log; waiting for more updates',
  Retrieved_Gtid_Set: '4d8b564f-03f4-4975-856a-0e65c3105328:90-105',
  Executed_Gtid_Set: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4d8b564f-03f4-4975-856a-0e65c3105328:1-100',
  Auto_Position: 1,
};

const healthy: ReplicaStatus = replicaStatus('200.200.200.2', { receivedGtid: '0-2-105', receivedPosition: 'mysql-bin.000003:1234' });

const connectError = 'error connecting to master \'repl@200.200.200.2:3306\' - retry-time: 1  maximum-retries: 100000  message: Can\'t connect to MySQL server on \'200.200.200.2\' (111 "Connection refused")';
const duplicateKey = 'Could not execute Write_rows_v1 event on table shop.orders; Duplicate entry \'42\' for key \'PRIMARY\', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event\'s master log mysql-bin.000003, end_log_pos 1234';

describe('MARIADB.parseReplicaStatus', () => {
  it('reads a healthy SHOW SLAVE STATUS row', () => {
    expect(MARIADB.parseReplicaStatus(mariadbRow)).toEqual(healthy);
  });

  it.each<[string, Record<string, unknown>, Partial<ReplicaStatus>]>([
    ['lagging (a number, as the binary protocol returns it)', { Seconds_Behind_Master: 42 }, { secondsBehind: 42 }],
    ['lagging (a string, as bigNumberStrings returns it)', { Seconds_Behind_Master: '42' }, { secondsBehind: 42 }],
    // NULL when the SQL thread is stopped or the IO thread has no connection: unknown, not zero.
    ['lag unknown', { Seconds_Behind_Master: null }, { secondsBehind: null }],
    ['applying behind what it received', { Exec_Master_Log_Pos: '1000' }, { applyBacklogBytes: 234 }],
    ['applying a whole binlog file behind', { Relay_Master_Log_File: 'mysql-bin.000002' }, { applyBacklogBytes: Infinity }],
    [
      'master down: IO thread retrying',
      { Slave_IO_Running: 'Connecting', Seconds_Behind_Master: null, Last_IO_Errno: 2003, Last_IO_Error: connectError },
      { io: 'connecting', secondsBehind: null, lastIoErrno: 2003, lastIoError: connectError },
    ],
    ['IO thread starting', { Slave_IO_Running: 'Preparing' }, { io: 'connecting' }],
    ['stopped', { Slave_IO_Running: 'No', Slave_SQL_Running: 'No', Seconds_Behind_Master: null }, { io: 'no', sqlRunning: false, secondsBehind: null }],
    [
      'SQL thread broken',
      { Slave_SQL_Running: 'No', Last_SQL_Errno: 1062, Last_SQL_Error: duplicateKey, Seconds_Behind_Master: null },
      { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: duplicateKey, secondsBehind: null },
    ],
    ['MASTER_USE_GTID=current_pos', { Using_Gtid: 'Current_Pos' }, { usesGtid: true }],
    ['replicating by file and position', { Using_Gtid: 'No' }, { usesGtid: false }],
    ['multi-domain position', { Gtid_IO_Pos: '0-2-105,1-3-7' }, { receivedGtid: '0-2-105,1-3-7' }],
    ['nothing received yet', { Gtid_IO_Pos: '' }, { receivedGtid: '' }],
  ])('%s', (_name, changes, expected) => {
    expect(MARIADB.parseReplicaStatus({ ...mariadbRow, ...changes })).toEqual({ ...healthy, ...expected });
  });
});

describe('MYSQL.parseReplicaStatus', () => {
  const received = `${mysqlRow.Executed_Gtid_Set as string},${mysqlRow.Retrieved_Gtid_Set as string}`;

  it('reads a healthy SHOW REPLICA STATUS row; what it holds is executed plus retrieved', () => {
    expect(MYSQL.parseReplicaStatus(mysqlRow)).toEqual({ ...healthy, receivedGtid: received, receivedPosition: 'binlog.000003:1234' });
  });

  it.each<[string, Record<string, unknown>, Partial<ReplicaStatus>]>([
    ['lagging', { Seconds_Behind_Source: '42' }, { secondsBehind: 42 }],
    ['lag unknown', { Seconds_Behind_Source: null }, { secondsBehind: null }],
    [
      'source down: IO thread retrying',
      {
        Replica_IO_Running: 'Connecting',
        Seconds_Behind_Source: null,
        Last_IO_Errno: 2003,
        Last_IO_Error: connectError.replace('master', 'source'),
      },
      { io: 'connecting', secondsBehind: null, lastIoErrno: 2003, lastIoError: connectError.replace('master', 'source') },
    ],
    ['stopped', { Replica_IO_Running: 'No', Replica_SQL_Running: 'No', Seconds_Behind_Source: null }, { io: 'no', sqlRunning: false, secondsBehind: null }],
    [
      'SQL thread broken',
      { Replica_SQL_Running: 'No', Last_SQL_Errno: 1062, Last_SQL_Error: duplicateKey },
      { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: duplicateKey },
    ],
    ['SOURCE_AUTO_POSITION=1, as a string', { Auto_Position: '1' }, { usesGtid: true }],
    ['replicating by file and position', { Auto_Position: 0 }, { usesGtid: false }],
    // After RESET REPLICA or relay_log_recovery the relay log is empty: executed is all it holds.
    ['nothing retrieved since the relay log was reset', { Retrieved_Gtid_Set: '' }, { receivedGtid: mysqlRow.Executed_Gtid_Set as string }],
    ['a fresh replica', { Retrieved_Gtid_Set: '', Executed_Gtid_Set: '' }, { receivedGtid: '' }],
  ])('%s', (_name, changes, expected) => {
    const expectedStatus = { ...healthy, receivedGtid: received, receivedPosition: 'binlog.000003:1234', ...expected };
    expect(MYSQL.parseReplicaStatus({ ...mysqlRow, ...changes })).toEqual(expectedStatus);
  });
});

describe('holdings: what rejoin compares', () => {
  it('MariaDB reads the binlog state (per domain and server id) and whether the binlog can be complete', () => {
    expect(MARIADB.holdings).toBe('SELECT @@GLOBAL.gtid_binlog_state AS binlog_state, @@GLOBAL.gtid_current_pos AS executed, @@GLOBAL.gtid_slave_pos AS slave_pos, @@GLOBAL.log_bin AS log_bin, @@GLOBAL.log_slave_updates AS log_slave_updates');
    expect(MARIADB.parseHoldings({ binlog_state: '0-1-50,0-2-69', executed: '0-2-69', slave_pos: '0-1-50', log_bin: 1, log_slave_updates: 1 }))
      .toEqual({ binlogState: '0-1-50,0-2-69', executed: '0-2-69', slavePos: '0-1-50', logBin: true, logSlaveUpdates: true });
    // Binary logging off: the binlog state is empty.
    expect(MARIADB.parseHoldings({ binlog_state: '', executed: '0-1-5', slave_pos: '0-1-5', log_bin: '0', log_slave_updates: 0 }))
      .toEqual({ binlogState: '', executed: '0-1-5', slavePos: '0-1-5', logBin: false, logSlaveUpdates: false });
  });

  it('MySQL reads gtid_executed alone', () => {
    expect(MYSQL.holdings).toBe('SELECT @@GLOBAL.gtid_executed AS executed');
    expect(MYSQL.parseHoldings({ executed: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5' })).toEqual({ executed: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5' });
  });
});

describe('MARIADB.fenceAlone', () => {
  it('is one anonymous block: every client killed, read_only within 0.05 s, the latecomers killed, then read_only', () => {
    const sql = MARIADB.fenceAlone ?? '';
    expect(sql).toMatch(/^BEGIN NOT ATOMIC\n/);
    const firstKill = sql.indexOf('KILL CONNECTION');
    const bounded = sql.indexOf('SET STATEMENT max_statement_time=0.05 FOR SET GLOBAL read_only=ON');
    const secondKill = sql.indexOf('KILL CONNECTION', bounded);
    expect(firstKill).toBeGreaterThan(0);
    expect(bounded).toBeGreaterThan(firstKill);
    expect(secondKill).toBeGreaterThan(bounded);
    expect(sql).toContain(`FROM information_schema.processlist WHERE user <> 'system user'`);
    expect(sql.trimEnd().endsWith('SET GLOBAL read_only=ON;\nEND')).toBe(true);
  });
});

describe('heartbeats', () => {
  it('MariaDB: the default connection\'s status variables, as SHOW GLOBAL STATUS returns them', () => {
    const rows = [
      { Variable_name: 'Slave_heartbeat_period', Value: '1.000' },
      { Variable_name: 'Slave_received_heartbeats', Value: '37' },
    ];
    expect(MARIADB.parseHeartbeats(rows)).toEqual({ received: 37, periodMs: 1000 });
    expect(MARIADB.parseHeartbeats([])).toBeUndefined();
  });

  it('MySQL: performance_schema\'s count and interval, one row for the default channel', () => {
    expect(MYSQL.heartbeats).toMatch(/COUNT_RECEIVED_HEARTBEATS AS received, c.HEARTBEAT_INTERVAL AS period/);
    expect(MYSQL.parseHeartbeats([{ received: '1204', period: '30.000' }])).toEqual({ received: 1204, periodMs: 30_000 });
    // No replication channel: no row.
    expect(MYSQL.parseHeartbeats([])).toBeUndefined();
  });
});
