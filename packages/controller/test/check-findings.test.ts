import { describe, expect, it } from 'vitest';
import type { ClusterFacts, Finding, ServerFacts } from '../src/check/facts.js';
import { checkCluster, formatFinding, progress, verdict } from '../src/check/findings.js';
import { currentMaster } from '../src/check/gather.js';
import { missingPrivileges } from '../src/check/grants.js';
import { failoverBound } from '../src/check/semisync.js';
import { parseCommand } from '../src/cli/args.js';
import { parseConfig } from '../src/config/load.js';
import { MARIADB, type ReplicaStatus } from '../src/mysql/dialect.js';
import type { ControllerState } from '../src/state/schema.js';
import type { ServerObservation } from '../src/topology/observation.js';
import { clusterDoc, configDoc, observation } from './helpers.js';

// `check` as a table: a healthy MariaDB cluster as data, one change per scenario, the lines expected.

const NOW = new Date('2025-06-01T12:00:00Z');
const MARIADB_ALL = ['GRANT ALL PRIVILEGES ON *.* TO `pullover`@`%` IDENTIFIED BY PASSWORD \'*20E9\' WITH GRANT OPTION'];
const REPL = ['GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`%` IDENTIFIED BY PASSWORD \'*634D\''];
const SEMISYNC_ON = { rpl_semi_sync_master_status: 'ON', rpl_semi_sync_master_clients: '2' };
const VARIABLES = {
  log_bin: 'ON', log_slave_updates: 'ON', gtid_strict_mode: 'ON', slave_net_timeout: '60',
  rpl_semi_sync_master_enabled: 'ON', rpl_semi_sync_master_timeout: '300000', rpl_semi_sync_master_wait_no_slave: 'ON', rpl_semi_sync_slave_enabled: 'ON',
};
/** pullover turns semi-sync as a master on where it makes a server writable, and off on replicas. */
const REPLICA_VARIABLES = { ...VARIABLES, rpl_semi_sync_master_enabled: 'OFF' };
/** The defaults: 3 pings of 1 s every 1 s, catchup_timeout 60 s, agents_timeout 10 s, no fence command. */
const DEFAULTS = parseConfig(configDoc('/etc/pullover'), '/etc/pullover/controller.yaml').clusters[0]!;

/** A healthy replica of `host`, from the SHOW SLAVE STATUS columns that matter (the rest are empty). */
const replicaOf = (host: string): ReplicaStatus => ({
  ...MARIADB.parseReplicaStatus({
    Master_Host: host,
    Master_Port: 3306,
    Slave_IO_Running: 'Yes',
    Slave_SQL_Running: 'Yes',
    Gtid_IO_Pos: '0-1-42',
    Seconds_Behind_Master: 0,
    Using_Gtid: 'Slave_Pos',
  }),
  // Pointed by pullover: the heartbeat period it sets (monitor.replica_heartbeat).
  heartbeats: { received: 12, periodMs: 1000 },
});

function server(
  name: string,
  n: number,
  change: Partial<ServerObservation>,
  over: Partial<ServerFacts> = {},
): ServerFacts {
  const address = `10.0.0.${n}`;
  const { replica, ...rest } = change;
  return {
    name,
    address,
    candidate: false,
    no_master: false,
    observation: {
      ...observation(name, { net: '10.0.0', gtid: '0-1-42', at: NOW, version: '10.11.19-MariaDB', ...rest }),
      replica,
    },
    loggedIn: true,
    grants: MARIADB_ALL,
    variables: VARIABLES,
    status: { rpl_semi_sync_master_status: 'OFF', rpl_semi_sync_master_clients: '0' },
    replication: { grants: REPL },
    ...over,
  };
}

function healthy(): ClusterFacts {
  return {
    cluster: 'myservice',
    port: 3306,
    user: 'pullover',
    replicationUser: 'repl',
    master: 'mysql1',
    masterFrom: 'state.json',
    fenced: [],
    blockedUntil: null,
    auto: true,
    timeoutMs: 1000,
    replicaHeartbeatMs: 1000,
    failoverBound: failoverBound(DEFAULTS),
    servers: [
      server('mysql1', 1, { readOnly: false, replica: null }, { status: SEMISYNC_ON }),
      server('mysql2', 2, { replica: replicaOf('10.0.0.1') }, { candidate: true, variables: REPLICA_VARIABLES }),
      server('mysql3', 3, { replica: replicaOf('10.0.0.1') }, { variables: REPLICA_VARIABLES }),
    ],
  };
}

type Patch = (c: ClusterFacts) => ClusterFacts;

/** The healthy cluster with one server changed. */
function changed(name: string, change: (s: ServerFacts) => ServerFacts): Patch {
  return (c) => ({ ...c, servers: c.servers.map((s) => (s.name === name ? change(s) : s)) });
}
const observed = (name: string, o: Partial<ServerObservation>) =>
  changed(name, (s) => ({ ...s, observation: { ...s.observation, ...o } }));
const replication = (name: string, r: Partial<ReplicaStatus>) => changed(name, (s) => ({
  ...s,
  observation: { ...s.observation, replica: { ...(s.observation.replica as ReplicaStatus), ...r } },
}));
const variables = (name: string, v: Record<string, string>) =>
  changed(name, (s) => ({ ...s, variables: { ...s.variables, ...v } }));
const unreachable = (name: string, kind: 'refused' | 'timeout' | 'rejected', message: string): Patch => changed(name, (s) => ({
  ...s,
  loggedIn: false,
  grants: [],
  variables: {},
  status: {},
  replication: undefined,
  observation: { name, address: s.address, at: NOW, reachable: false, failure: { kind, message: `${name}: ${message}` } },
}));
const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const MYSQL_GRANTS = [
  'GRANT PROCESS, REPLICATION CLIENT ON *.* TO `pullover`@`%`',
  'GRANT REPLICATION_SLAVE_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `pullover`@`%`',
];
const asMysql: Patch = (c) => ({
  ...c,
  servers: c.servers.map((s) => ({
    ...s,
    grants: MYSQL_GRANTS,
    observation: {
      ...s.observation,
      flavor: 'mysql',
      version: '8.4.2',
      executedGtid: `${UUID}:1-42`,
      replica: s.observation.replica ? { ...s.observation.replica, receivedGtid: `${UUID}:1-42` } : null,
    },
    variables: {
      log_bin: 'ON', log_replica_updates: 'ON', gtid_mode: 'ON', enforce_gtid_consistency: 'ON', replica_net_timeout: '60',
      rpl_semi_sync_source_enabled: s.name === 'mysql1' ? 'ON' : 'OFF', rpl_semi_sync_source_timeout: '300000', rpl_semi_sync_source_wait_no_replica: 'ON', rpl_semi_sync_replica_enabled: 'ON',
    },
    status: (s.name === 'mysql1' ? { rpl_semi_sync_source_status: 'ON', rpl_semi_sync_source_clients: '2' } : {}) as Record<string, string>,
  })),
});

/** [level, server, text and fix as one line] */
type Expected = [Finding['level'], string, RegExp];

const SCENARIOS: [string, Patch, Expected[]][] = [
  ['mysqld down on mysql3', unreachable('mysql3', 'refused', 'connect ECONNREFUSED 10.0.0.3:3306'), [
    ['FAIL', 'mysql3', /connection refused at 10\.0\.0\.3:3306: no mysqld listens there → fix: start mysqld on mysql3/],
  ]],
  ['mysql3 does not answer', unreachable('mysql3', 'timeout', 'connect ETIMEDOUT'), [
    ['FAIL', 'mysql3', /no answer from 10\.0\.0\.3:3306 within 1 s \(monitor\.timeout\).* → fix: check that mysql3 is up and that port 3306 is open/],
  ]],
  ['wrong password', unreachable('mysql2', 'rejected', 'Access denied for user \'pullover\'@\'10.0.0.9\' (using password: YES)'), [
    ['FAIL', 'mysql2', /access denied for pullover: Access denied for user 'pullover'@'10\.0\.0\.9' .* → fix: check mysql\.password_file/],
    ['WARN', 'mysql2', /is marked candidate but would not be promoted: it is unreachable .*; mysql3 would be/],
  ]],
  ['too many connections', unreachable('mysql3', 'rejected', 'Too many connections'), [
    ['FAIL', 'mysql3', /mysqld refused pullover: Too many connections → fix: .*max_connections/],
  ]],
  ['logged in, but SHOW SLAVE STATUS refused', changed('mysql3', (s) => ({
    ...s,
    grants: ['GRANT PROCESS, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, CONNECTION ADMIN, BINLOG MONITOR ON *.* TO `pullover`@`%`'],
    observation: { ...s.observation, reachable: false, failure: { kind: 'error', message: 'mysql3: Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s)' } },
  })), [
    ['FAIL', 'mysql3', /pullover logs in but cannot read the server's state: Access denied; you need .*SLAVE MONITOR/],
    ['FAIL', 'mysql3', /pullover lacks SLAVE MONITOR \(to read SHOW SLAVE STATUS\) → fix: GRANT SLAVE MONITOR ON \*\.\* TO 'pullover'@'%'/],
  ]],
  ['SUPER alone on MariaDB: no read_only, a blind processlist', changed('mysql1', (s) => ({ ...s, grants: ['GRANT SUPER ON *.* TO `pullover`@`10.%`'] })), [
    ['FAIL', 'mysql1', /pullover lacks READ_ONLY ADMIN \(to set read_only\), PROCESS .* → fix: GRANT READ_ONLY ADMIN, PROCESS ON \*\.\* TO 'pullover'@'10\.%'/],
  ]],
  ['replication user denied on the candidate', changed('mysql2', (s) => ({
    ...s,
    replication: { failure: { kind: 'rejected', message: 'mysql2: Access denied for user \'repl\'@\'10.0.0.9\'' } },
  })), [
    ['FAIL', 'mysql2', /access denied for repl: .* → fix: check mysql\.replication_password_file/],
  ]],
  ['replication user without REPLICATION SLAVE', changed('mysql2', (s) => ({
    ...s,
    replication: { grants: ['GRANT USAGE ON *.* TO `repl`@`%`'] },
  })), [
    ['FAIL', 'mysql2', /repl logs in but lacks REPLICATION SLAVE.* → fix: GRANT REPLICATION SLAVE ON \*\.\* TO 'repl'@'%'/],
  ]],
  ['the master is read-only', observed('mysql1', { readOnly: true }), [
    ['FAIL', 'mysql1', /the master is read-only.* → fix: SET GLOBAL read_only=OFF on mysql1/],
  ]],
  ['the master has no binlog', variables('mysql1', { log_bin: 'OFF' }), [
    ['FAIL', 'mysql1', /the binary log is off: replicas have nothing to replicate → fix: set log_bin=mysql-bin/],
  ]],
  ['a second writable server', observed('mysql3', { readOnly: false }), [
    ['FAIL', 'mysql3', /is writable too \(read_only=OFF\): two masters.* → fix: SET GLOBAL read_only=ON on mysql3 now, and set read_only=ON in its my\.cnf; pullover makes only the master writable/],
  ]],
  ['replication stopped', replication('mysql3', { io: 'no', sqlRunning: false }), [
    ['FAIL', 'mysql3', /replication is broken: the IO thread is stopped and the SQL thread is stopped → fix: START SLAVE on mysql3$/],
  ]],
  ['the IO thread cannot connect', replication('mysql3', { io: 'connecting', lastIoErrno: 1045, lastIoError: 'error connecting to master \'repl@10.0.0.1:3306\'' }), [
    ['FAIL', 'mysql3', /the IO thread cannot connect \(IO error 1045: error connecting to master .*\) → fix: fix what the error says/],
  ]],
  ['a broken SQL thread on the candidate', replication('mysql2', { sqlRunning: false, lastSqlErrno: 1062, lastSqlError: 'Duplicate entry \'1000\'' }), [
    ['FAIL', 'mysql2', /the SQL thread is stopped \(SQL error 1062: Duplicate entry '1000'\) → fix: .*rebuild mysql2 from a backup/],
    ['WARN', 'mysql2', /is marked candidate but would not be promoted: it has a broken SQL thread \(error 1062.*; mysql3 would be/],
  ]],
  ['a replica of another server', replication('mysql3', { masterHost: '10.0.0.2' }), [
    ['FAIL', 'mysql3', /replicates from 10\.0\.0\.2:3306, not from the master mysql1 \(10\.0\.0\.1:3306\) → fix: STOP SLAVE; CHANGE MASTER TO MASTER_HOST='10\.0\.0\.1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='<replication password>', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1; START SLAVE on mysql3/],
  ]],
  ['a replica of nobody', observed('mysql3', { replica: null }), [
    ['FAIL', 'mysql3', /replicates from nobody.* → fix: STOP SLAVE; CHANGE MASTER TO MASTER_HOST='10\.0\.0\.1'/],
  ]],
  ['replication by file and position', replication('mysql3', { usesGtid: false }), [
    ['FAIL', 'mysql3', /not by GTID.* → fix: STOP SLAVE; CHANGE MASTER TO MASTER_USE_GTID=slave_pos; START SLAVE on mysql3/],
  ]],
  ['lag', replication('mysql3', { secondsBehind: 42 }), [
    ['WARN', 'mysql3', /is 42 s behind its master/],
  ]],
  // Pointed by hand: MariaDB's default period is half of slave_net_timeout.
  ['a replica pointed by hand, heartbeat every 30 s', replication('mysql2', { heartbeats: { received: 3, periodMs: 30_000 } }), [
    ['WARN', 'mysql2', /receives a heartbeat every 30 s: it confirms a hung or cut-off master only after that long.* → fix: pullover-controller set-heartbeat --cluster myservice \(it runs STOP SLAVE; CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=1; START SLAVE on each such replica\)/],
  ]],
  ['slave_net_timeout no longer than the heartbeat', variables('mysql3', { slave_net_timeout: '1' }), [
    ['WARN', 'mysql3', /slave_net_timeout \(1 s\) is not longer than its heartbeat period \(1 s\).* → fix: SET GLOBAL slave_net_timeout=60/],
  ]],
  ['gtid_strict_mode off', variables('mysql3', { gtid_strict_mode: 'OFF' }), [
    ['WARN', 'mysql3', /gtid_strict_mode is OFF.* → fix: SET GLOBAL gtid_strict_mode=ON on mysql3/],
  ]],
  ['no log_slave_updates on a server that could become the master', variables('mysql2', { log_slave_updates: 'OFF' }), [
    ['FAIL', 'mysql2', /log_slave_updates is OFF, so what it replicates is not in its binlog: replicas repointed at it after a failover would miss it, and a rejoin, which compares binlog states \(gtid_binlog_state\).* → fix: set log_slave_updates=ON/],
  ]],
  ['no log_slave_updates on the master: a rejoin could not be judged against it', variables('mysql1', { log_slave_updates: 'OFF' }), [
    ['FAIL', 'mysql1', /log_slave_updates is OFF.*once a replica again it could not serve a failover's catch-up, and a rejoin, .*could refuse a server holding nothing it lacks → fix: set log_slave_updates=ON in its my\.cnf and restart mysqld/],
  ]],
  // The planner catches the new master up from the most advanced survivor, no_master or not.
  ['a no_master replica that could not serve as a donor', (c) => changed('mysql3', (s) => ({ ...s, no_master: true }))(variables('mysql3', { log_slave_updates: 'OFF', log_bin: 'OFF' })(c)), [
    ['FAIL', 'mysql3', /the binary log is off: it could not serve as a donor to a failover's catch-up.* → fix: set log_bin=mysql-bin/],
    ['FAIL', 'mysql3', /log_slave_updates is OFF, so what it replicates is not in its binlog: it could not serve as a donor: .* → fix: set log_slave_updates=ON/],
  ]],
  ['a no_master replica needs no semi-sync settings', (c) => changed('mysql3', (s) => ({ ...s, no_master: true }))(variables('mysql3', { rpl_semi_sync_master_enabled: 'OFF', rpl_semi_sync_slave_enabled: 'OFF' })(c)), []],
  ['semi-sync off', variables('mysql1', { rpl_semi_sync_master_enabled: 'OFF' }), [
    ['FAIL', 'mysql1', /rpl_semi_sync_master_enabled is OFF: it would acknowledge writes to applications that exist on it only, and a failover loses them → fix: SET GLOBAL rpl_semi_sync_master_enabled=ON on mysql1 \(leave it OFF in my\.cnf: pullover turns it on where it makes a server writable, off on replicas\)$/],
  ]],
  ['semi-sync enabled but fallen back to asynchronous', changed('mysql1', (s) => ({ ...s, status: { rpl_semi_sync_master_status: 'OFF', rpl_semi_sync_master_clients: '0' } })), [
    ['FAIL', 'mysql1', /semi-sync is enabled but inactive \(0 replica\(s\) acknowledging\)/],
  ]],
  // The sandbox's test settings: commits waiting on a frozen master are acknowledged after 1 s.
  ['a semi-sync timeout shorter than a failover', variables('mysql1', { rpl_semi_sync_master_timeout: '1000' }), [
    ['FAIL', 'mysql1', /rpl_semi_sync_master_timeout is 1000 ms: frozen or cut off from its replicas for longer, it would stop waiting for them and acknowledge commits that the failover then discards; a failover can take 139s here \(detection 8s, fencing 1s, catch-up and repointing 2m, the agents 10s\), so wait at least 5m → fix: SET GLOBAL rpl_semi_sync_master_timeout=300000 on mysql1, and rpl_semi_sync_master_timeout=300000 in its my\.cnf/],
  ]],
  ['semi-sync that stops waiting with no replica connected', variables('mysql1', { rpl_semi_sync_master_wait_no_slave: 'OFF' }), [
    ['FAIL', 'mysql1', /rpl_semi_sync_master_wait_no_slave is OFF: cut off from every replica, it would stop waiting at once and acknowledge commits that the failover then discards → fix: SET GLOBAL rpl_semi_sync_master_wait_no_slave=ON on mysql1/],
  ]],
  ['a candidate that does not acknowledge as a replica', variables('mysql2', { rpl_semi_sync_slave_enabled: 'OFF' }), [
    ['FAIL', 'mysql2', /rpl_semi_sync_slave_enabled is OFF: it does not acknowledge the master's writes.* → fix: SET GLOBAL rpl_semi_sync_slave_enabled=ON on mysql2, and rpl_semi_sync_slave_enabled=ON in its my\.cnf, then STOP SLAVE IO_THREAD; START SLAVE IO_THREAD$/],
  ]],
  ['a replica with semi-sync as a master on, waiting with no replica of its own', variables('mysql3', { rpl_semi_sync_master_enabled: 'ON' }), [
    ['FAIL', 'mysql3', /rpl_semi_sync_master_enabled is ON on a replica: with rpl_semi_sync_master_wait_no_slave ON its SQL thread waits 300000 ms for an acknowledgement .* → fix: SET GLOBAL rpl_semi_sync_master_enabled=OFF on mysql3, and rpl_semi_sync_master_enabled=OFF in every server's my\.cnf$/],
  ]],
  ['a candidate whose timeout is too short once promoted', variables('mysql3', { rpl_semi_sync_master_timeout: '10000' }), [
    ['FAIL', 'mysql3', /rpl_semi_sync_master_timeout is 10000 ms: frozen or cut off from its replicas for longer, once promoted, it would stop waiting/],
  ]],
  // A failover that may last longer than the floor raises what the timeout must be.
  ['a long fence command', (c) => ({ ...c, failoverBound: failoverBound(parseConfig(configDoc('/etc/pullover', [{ ...clusterDoc(), failover: { fence_command: 'poweroff-vm', command_timeout: '5m' } }]), '/etc/pullover/controller.yaml').clusters[0]!) }), [
    ['FAIL', 'mysql1', /rpl_semi_sync_master_timeout is 300000 ms: .*a failover can take 439s here \(detection 8s, fencing with 1 command\(s\) 301s, .*so wait at least 439s → fix: SET GLOBAL rpl_semi_sync_master_timeout=439000 on mysql1/],
    ['FAIL', 'mysql2', /rpl_semi_sync_master_timeout is 300000 ms/],
    ['FAIL', 'mysql3', /rpl_semi_sync_master_timeout is 300000 ms/],
  ]],
  ['a MySQL server among MariaDB ones', observed('mysql3', { flavor: 'mysql', version: '8.4.2' }), [
    ['FAIL', 'mysql3', /runs MySQL 8\.4\.2, unlike the master.* → fix: replace mysql3 with a MariaDB server/],
  ]],
  ['every other server no_master', (c) => ({ ...c, servers: c.servers.map((s) => ({ ...s, candidate: false, no_master: s.name !== 'mysql1' })) }), [
    ['FAIL', 'mysql1', /no failover is possible: if mysql1 died now, no server can replace mysql1: mysql2 is marked no_master; mysql3 is marked no_master → fix: .*remove no_master/],
  ]],
  ['diverged replicas', (c) => replication('mysql3', { receivedGtid: '0-3-43' })(replication('mysql2', { receivedGtid: '0-2-43' })(c)), [
    ['FAIL', 'mysql1', /no failover is possible: if mysql1 died now, mysql3 \(0-3-43\) and mysql2 \(0-2-43\) have diverged/],
  ]],
  ['a position nobody can read', replication('mysql3', { receivedGtid: 'garbage' }), [
    ['FAIL', 'mysql1', /no failover is possible: .*the positions cannot be compared: not a MariaDB GTID position/],
  ]],
  ['a former master fenced after a failover', (c) => {
    const after = replication('mysql3', { masterHost: '10.0.0.2' })(observed('mysql2', { readOnly: false, replica: null })(observed('mysql1', { readOnly: true, replica: null })(c)));
    // Promoted, mysql2 had semi-sync as a master turned on.
    return { ...changed('mysql2', (s) => ({ ...s, status: SEMISYNC_ON, variables: VARIABLES }))(after), master: 'mysql2', fenced: ['mysql1'] };
  }, [
    ['WARN', 'mysql1', /a fenced former master \(answers, read-only\): pullover never promotes nor repoints it.* → fix: rebuild it as a replica of mysql2/],
  ]],
  ['automatic failover off and blocked', (c) => ({ ...c, auto: false, blockedUntil: '2025-06-01T18:00:00Z' }), [
    ['WARN', 'mysql1', /automatic failover is off \(failover\.auto: false\)/],
    ['WARN', 'mysql1', /blocked until 2025-06-01T18:00:00Z .* → fix: pullover-controller ack --cluster myservice/],
  ]],
  ['a block that has expired', (c) => ({ ...c, blockedUntil: '2025-06-01T11:00:00Z' }), []],
];

function problems(c: ClusterFacts): Finding[] {
  return checkCluster(c, NOW).findings.filter((f) => f.level !== 'ok');
}

describe('check findings', () => {
  it('a healthy cluster: only ok lines, and the planner would promote the candidate', () => {
    const report = checkCluster(healthy(), NOW);
    expect(report.findings.filter((f) => f.level !== 'ok')).toEqual([]);
    expect(report.findings.map((f) => formatFinding('myservice', f))).toEqual([
      'ok    myservice/mysql1: pullover logs in: MariaDB 10.11.19-MariaDB',
      'ok    myservice/mysql1: pullover has every privilege a failover needs',
      'ok    myservice/mysql1: repl logs in with REPLICATION SLAVE (from this host; replicas connect from theirs)',
      'ok    myservice/mysql1: log_bin ON, log_slave_updates ON, gtid_strict_mode ON',
      'ok    myservice/mysql1: semi-sync: rpl_semi_sync_master_enabled ON, rpl_semi_sync_master_timeout 5m (at least 5m), rpl_semi_sync_master_wait_no_slave ON',
      'ok    myservice/mysql1: the master: writable, replicates from nobody, semi-sync active (2 replica(s) acknowledge)',
      'ok    myservice/mysql2: pullover logs in: MariaDB 10.11.19-MariaDB',
      'ok    myservice/mysql2: pullover has every privilege a failover needs',
      'ok    myservice/mysql2: repl logs in with REPLICATION SLAVE (from this host; replicas connect from theirs)',
      'ok    myservice/mysql2: log_bin ON, log_slave_updates ON, gtid_strict_mode ON',
      'ok    myservice/mysql2: semi-sync: rpl_semi_sync_master_enabled OFF (on once promoted), rpl_semi_sync_master_timeout 5m (at least 5m), rpl_semi_sync_master_wait_no_slave ON, rpl_semi_sync_slave_enabled ON',
      'ok    myservice/mysql2: replicates from mysql1 (10.0.0.1:3306) by GTID, IO and SQL threads running, 0 s behind, read-only, heartbeat every 1 s, slave_net_timeout 60 s',
      'ok    myservice/mysql3: pullover logs in: MariaDB 10.11.19-MariaDB',
      'ok    myservice/mysql3: pullover has every privilege a failover needs',
      'ok    myservice/mysql3: repl logs in with REPLICATION SLAVE (from this host; replicas connect from theirs)',
      'ok    myservice/mysql3: log_bin ON, log_slave_updates ON, gtid_strict_mode ON',
      'ok    myservice/mysql3: semi-sync: rpl_semi_sync_master_enabled OFF (on once promoted), rpl_semi_sync_master_timeout 5m (at least 5m), rpl_semi_sync_master_wait_no_slave ON, rpl_semi_sync_slave_enabled ON',
      'ok    myservice/mysql3: replicates from mysql1 (10.0.0.1:3306) by GTID, IO and SQL threads running, 0 s behind, read-only, heartbeat every 1 s, slave_net_timeout 60 s',
    ]);
    expect(verdict(report)).toBe('myservice: ready: a failover would work; if mysql1 died now: promote mysql2 (candidate, at 0-1-42); repoint mysql3');
  });

  it.each(SCENARIOS)('%s', (_name, patch, expected) => {
    const found = problems(patch(healthy()));
    expect(found.map((f) => [f.level, f.server, formatFinding('myservice', f)])).toEqual(
      expected.map(([level, server, line]) => [level, server, expect.stringMatching(line)]),
    );
  });

  it('a MySQL 8.4 cluster: its own privileges, variable names and statements', () => {
    const found = problems(asMysql(healthy()));
    expect(found.map((f) => formatFinding('myservice', f))).toEqual([
      'FAIL  myservice/mysql1: pullover lacks CONNECTION_ADMIN (to kill client connections) → fix: GRANT CONNECTION_ADMIN ON *.* TO \'pullover\'@\'%\'',
      expect.stringMatching(/FAIL  myservice\/mysql2: pullover lacks CONNECTION_ADMIN/),
      expect.stringMatching(/FAIL  myservice\/mysql3: pullover lacks CONNECTION_ADMIN/),
    ]);
    // Without the semi-sync plugins, the variables are missing altogether.
    const noPlugin = changed('mysql1', (s) => ({ ...s, variables: { log_bin: 'ON', log_replica_updates: 'ON', gtid_mode: 'ON', enforce_gtid_consistency: 'ON' } }));
    expect(problems(noPlugin(asMysql(healthy()))).map((f) => formatFinding('myservice', f))).toContain(
      'FAIL  myservice/mysql1: rpl_semi_sync_source_enabled is unset: it would acknowledge writes to applications that exist on it only, and a failover loses them → fix: SET GLOBAL rpl_semi_sync_source_enabled=ON on mysql1 (leave it OFF in my.cnf: pullover turns it on where it makes a server writable, off on replicas) (first INSTALL PLUGIN rpl_semi_sync_source SONAME \'semisync_source.so\' and rpl_semi_sync_replica SONAME \'semisync_replica.so\' if the variables are missing)',
    );
    // MySQL before 8.0.26, or with the old plugins: master and slave in the names.
    const oldNames = changed('mysql1', (s) => ({
      ...s,
      variables: { log_bin: 'ON', log_replica_updates: 'ON', gtid_mode: 'ON', enforce_gtid_consistency: 'ON', rpl_semi_sync_master_enabled: 'ON', rpl_semi_sync_master_timeout: '1000', rpl_semi_sync_master_wait_no_slave: 'ON' },
    }));
    const short = problems(oldNames(asMysql(healthy()))).map((f) => f.text);
    expect(short).toContainEqual(expect.stringMatching(/^rpl_semi_sync_master_timeout is 1000 ms: /));
    const noGtid = problems(variables('mysql3', { gtid_mode: 'OFF_PERMISSIVE' })(asMysql(healthy())));
    expect(noGtid.map((f) => f.text)).toContain('gtid_mode is OFF_PERMISSIVE: replicas can only be repointed by GTID');
    const stopped = problems(replication('mysql3', { io: 'no', sqlRunning: false, usesGtid: false })(asMysql(healthy())));
    expect(stopped.map((f) => f.fix)).toEqual(expect.arrayContaining([
      'START REPLICA on mysql3',
      'STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1; START REPLICA on mysql3',
    ]));
  });

  it('the verdict counts problems and warnings and keeps the planner\'s sentence', () => {
    const stopped = replication('mysql3', { io: 'no', sqlRunning: false })(healthy());
    const broken = checkCluster(variables('mysql3', { gtid_strict_mode: 'OFF' })(stopped), NOW);
    expect(verdict(broken)).toBe('myservice: NOT ready: 1 problem to fix, 1 warning; if mysql1 died now: promote mysql2 (candidate, at 0-1-42); repoint mysql3');
    const warned = checkCluster(variables('mysql3', { gtid_strict_mode: 'OFF' })(healthy()), NOW);
    expect(verdict(warned)).toMatch(/^myservice: ready: a failover would work \(1 warning\); if mysql1 died now/);
  });

  it('one progress line per server', () => {
    const c = unreachable('mysql3', 'refused', 'connect ECONNREFUSED')(healthy());
    expect(c.servers.map((s) => progress(c, s))).toEqual([
      'checked myservice/mysql1 (the master per state.json, 10.0.0.1:3306): MariaDB 10.11.19-MariaDB, writable, replicates from nobody',
      'checked myservice/mysql2 (10.0.0.2:3306): MariaDB 10.11.19-MariaDB, read-only, replicates from 10.0.0.1',
      'checked myservice/mysql3 (10.0.0.3:3306): connection refused',
    ]);
  });
});

describe('grants', () => {
  it.each([
    ['ALL PRIVILEGES', 'mariadb', ['GRANT ALL PRIVILEGES ON *.* TO `p`@`%`'], []],
    // MariaDB shows REPLICATION CLIENT as BINLOG MONITOR; REPLICA MONITOR and READ ONLY ADMIN are aliases.
    ['fine-grained, aliases', 'mariadb', ['GRANT PROCESS, REPLICATION CLIENT, REPLICA MONITOR, READ ONLY ADMIN, REPLICATION REPLICA ADMIN, CONNECTION ADMIN ON *.* TO `p`@`%`'], []],
    ['only on a database', 'mariadb', ['GRANT ALL PRIVILEGES ON `app`.* TO `p`@`%`'], ['READ_ONLY ADMIN', 'REPLICATION SLAVE ADMIN', 'CONNECTION ADMIN', 'PROCESS', 'SLAVE MONITOR', 'BINLOG MONITOR']],
    ['SUPER and PROCESS on MySQL', 'mysql', ['GRANT PROCESS, SUPER ON *.* TO `p`@`%`'], []],
    ['SUPER on MariaDB', 'mariadb', ['GRANT SUPER ON *.* TO `p`@`%`'], ['READ_ONLY ADMIN', 'PROCESS']],
  ] as const)('%s', (_name, flavor, grants, missing) => {
    expect(missingPrivileges(flavor, grants).map((p) => p.name)).toEqual(missing);
  });
});

describe('check command line', () => {
  it('check --config FILE', () => {
    expect(parseCommand(['check', '--config', '/etc/pullover/controller.yaml'])).toEqual({ kind: 'check', config: '/etc/pullover/controller.yaml' });
    expect(() => parseCommand(['check'])).toThrow('check needs --config FILE');
    expect(() => parseCommand(['check', '--config', 'a.yaml', 'extra'])).toThrow('check takes no argument "extra"');
  });
});

describe('the master check takes as the current one', () => {
  const cluster = (extra: object = {}) => parseConfig(configDoc('/etc/pullover', [{ ...clusterDoc(), ...extra }]), '/etc/pullover/controller.yaml').clusters[0]!;
  const state = (master: string) => ({ clusters: { myservice: { master } } }) as unknown as ControllerState;

  it.each([
    ['no state: the first server', cluster(), null, { master: 'mysql1', from: 'the first server in the config' }],
    ['no state: master: in the config', cluster({ master: 'mysql2' }), null, { master: 'mysql2', from: 'master: in the config' }],
    ['the state dir\'s, after a failover', cluster(), state('mysql2'), { master: 'mysql2', from: 'state.json' }],
    ['a state naming a server gone from the config', cluster(), state('mysql9'), { master: 'mysql1', from: 'the first server in the config' }],
  ])('%s', (_name, c, s, expected) => {
    expect(currentMaster(c, s)).toEqual(expected);
  });
});
