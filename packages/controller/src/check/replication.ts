import { format } from 'mysql2';
import { dialectFor } from '../mysql/dialect.js';
import type { Flavor } from '../mysql/gtid.js';
import { type ClusterFacts, type Finding, isOn, pick, type ServerFacts } from './facts.js';

// The master's and the replicas' replication, binlog and GTID settings.

/** Replication lag worth a warning: a failover onto the replica first waits it out. */
const LAG_WARN_S = 10;

const USE_GTID: Readonly<Record<Flavor, string>> = {
  mariadb: 'CHANGE MASTER TO MASTER_USE_GTID=slave_pos',
  mysql: 'CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1',
};

interface Context {
  readonly flavor: Flavor;
  readonly master: ServerFacts;
}

function problem(level: 'WARN' | 'FAIL', s: ServerFacts, text: string, fix: string): Finding {
  return { level, server: s.name, text, fix };
}

/** Problems, or one ok line saying what was found fine. */
function orOk(s: ServerFacts, problems: Finding[], ok: string): Finding[] {
  return problems.length > 0 ? problems : [{ level: 'ok', server: s.name, text: ok }];
}

type Role = 'master' | 'promotable' | 'replica';

/** Why a server of this role needs its binlog to hold what it replicated too. */
function binlogNeed(role: Role, flavor: Flavor): string {
  const rejoin = flavor === 'mariadb' ? ', and a rejoin, which compares binlog states (gtid_binlog_state) with it, could refuse a server holding nothing it lacks' : '';
  switch (role) {
    case 'master':
      return `once a replica again it could not serve a failover's catch-up${rejoin}`;
    case 'promotable':
      return `replicas repointed at it after a failover would miss it${rejoin}`;
    case 'replica':
      return 'it could not serve as a donor: a failover whose new master lacks what only this replica received catches up from it';
  }
}

/** log_bin and log_slave_updates (every server: each may be a master, a donor or a rejoin's yardstick) and GTID mode. */
export function binlogAndGtid(s: ServerFacts, flavor: Flavor, role: Role): Finding[] {
  const v = s.variables;
  if (Object.keys(v).length === 0) return [];
  const problems: Finding[] = [];
  const checked: string[] = ['log_bin ON'];
  if (!isOn(v.log_bin)) {
    problems.push(problem('FAIL', s, role === 'master'
      ? 'the binary log is off: replicas have nothing to replicate'
      : role === 'promotable'
        ? 'the binary log is off: replicas repointed at it after a failover need its binlog'
        : 'the binary log is off: it could not serve as a donor to a failover\'s catch-up, and a rejoin could compare only its last GTID per domain', 'set log_bin=mysql-bin in its my.cnf and restart mysqld'));
  }
  const updates = pick(v, 'log_slave_updates', 'log_replica_updates') ?? { name: 'log_slave_updates', value: 'OFF' };
  checked.push(`${updates.name} ON`);
  if (!isOn(updates.value)) {
    problems.push(problem('FAIL', s, `${updates.name} is OFF, so what it replicates is not in its binlog: ${binlogNeed(role, flavor)}`, `set ${updates.name}=ON in its my.cnf and restart mysqld`));
  }
  if (flavor === 'mariadb') {
    checked.push('gtid_strict_mode ON');
    if (!isOn(v.gtid_strict_mode)) {
      problems.push(problem('WARN', s, 'gtid_strict_mode is OFF: a transaction written on a replica by mistake goes unnoticed until GTID positions diverge and no failover can choose', `SET GLOBAL gtid_strict_mode=ON on ${s.name}, and gtid_strict_mode=ON in its my.cnf`));
    }
  } else {
    checked.push('gtid_mode ON', 'enforce_gtid_consistency ON');
    for (const name of ['gtid_mode', 'enforce_gtid_consistency']) {
      if (v[name]?.toUpperCase() !== 'ON') {
        problems.push(problem('FAIL', s, `${name} is ${v[name] ?? 'unset'}: replicas can only be repointed by GTID`, `set gtid_mode=ON and enforce_gtid_consistency=ON in its my.cnf (on a running cluster, follow MySQL's online procedure step by step)`));
      }
    }
  }
  return orOk(s, problems, checked.join(', '));
}

/** The master: writable, replicating from nobody, semi-sync acknowledging. */
export function masterRole(s: ServerFacts, flavor: Flavor): Finding[] {
  const o = s.observation;
  const problems: Finding[] = [];
  if (o.readOnly) {
    problems.push(problem('FAIL', s, 'the master is read-only: applications cannot write', `SET GLOBAL read_only=OFF on ${s.name} if it is the master; if another server is, pullover-controller set-master that one`));
  }
  if (o.replica?.masterHost) {
    problems.push(problem('WARN', s, `the master replicates from ${o.replica.masterHost}:${o.replica.masterPort} (circular or chained replication): pullover expects a master that replicates from nobody`, `${dialectFor(flavor).stopReplica}; RESET ${flavor === 'mysql' ? 'REPLICA' : 'SLAVE'} ALL on ${s.name}, unless you know why it is so`));
  }
  const semisync = semisyncOf(s, flavor);
  if (semisync.problem) problems.push(semisync.problem);
  return orOk(s, problems, `the master: writable, replicates from nobody${semisync.ok}`);
}

/** Semi-sync on the master (its settings are semisync.ts's): is it waiting for a replica now? */
function semisyncOf(s: ServerFacts, flavor: Flavor): { problem?: Finding; ok: string } {
  // Settings unread (the query failed), or semi-sync off (a finding of its own): nothing to add.
  const enabled = pick(s.variables, 'rpl_semi_sync_master_enabled', 'rpl_semi_sync_source_enabled');
  if (!isOn(enabled?.value)) return { ok: '' };
  const active = pick(s.status, 'rpl_semi_sync_master_status', 'rpl_semi_sync_source_status');
  const clients = pick(s.status, 'rpl_semi_sync_master_clients', 'rpl_semi_sync_source_clients')?.value ?? '0';
  const replicaSide = flavor === 'mysql' ? 'rpl_semi_sync_replica_enabled' : 'rpl_semi_sync_slave_enabled';
  if (!isOn(active?.value)) {
    return { ok: '', problem: problem('FAIL', s, `semi-sync is enabled but inactive (${clients} replica(s) acknowledging): the master stopped waiting after a timeout, so acknowledged writes may exist on it only`, `set ${replicaSide}=ON on the replicas and restart their replication; once a replica has caught up, the master waits again`) };
  }
  return { ok: `, semi-sync active (${clients} replica(s) acknowledge)` };
}

/** A replica: of the master, by GTID, both threads running, read-only, noticing a hung master quickly. */
export function replicaRole(c: ClusterFacts, s: ServerFacts, ctx: Context): Finding[] {
  const o = s.observation;
  const r = o.replica;
  const dialect = dialectFor(ctx.flavor);
  const master = `${ctx.master.name} (${ctx.master.address}:${c.port})`;
  const heartbeatS = c.replicaHeartbeatMs / 1000;
  const statement = dialect.changeMaster({ host: ctx.master.address, port: c.port, user: c.replicationUser, password: '<replication password>', heartbeatS });
  const change = format(statement.sql, statement.values as (string | number)[]);
  const repoint = `${dialect.stopReplica}; ${change}; ${dialect.startReplica} on ${s.name}`;
  const problems: Finding[] = [];
  if (!o.readOnly) {
    problems.push(problem('FAIL', s, `is writable too (read_only=OFF): two masters, and writes landing here are not on ${ctx.master.name}`, `SET GLOBAL read_only=ON on ${s.name} now, and set read_only=ON in its my.cnf; pullover makes only the master writable`));
  }
  if (!r) {
    problems.push(problem('FAIL', s, `replicates from nobody: it has none of ${ctx.master.name}'s writes`, repoint));
    return problems;
  }
  if (r.masterHost !== ctx.master.address || r.masterPort !== c.port) {
    problems.push(problem('FAIL', s, `replicates from ${r.masterHost}:${r.masterPort}, not from the master ${master}`, repoint));
  }
  const io = r.io === 'yes' ? '' : r.io === 'connecting' ? 'the IO thread cannot connect' : 'the IO thread is stopped';
  const sql = r.sqlRunning ? '' : 'the SQL thread is stopped';
  if (io || sql) {
    const errors = [r.lastIoErrno ? `IO error ${r.lastIoErrno}: ${r.lastIoError}` : '', r.lastSqlErrno ? `SQL error ${r.lastSqlErrno}: ${r.lastSqlError}` : ''].filter(Boolean);
    const fix = errors.length === 0
      ? `${dialect.startReplica} on ${s.name}`
      : `fix what the error says (a conflicting row: rebuild ${s.name} from a backup rather than skip it), then ${dialect.startReplica} on ${s.name}`;
    problems.push(problem('FAIL', s, `replication is broken: ${[io, sql].filter(Boolean).join(' and ')}${errors.length ? ` (${errors.join('; ')})` : ''}`, fix));
  }
  if (!r.usesGtid) {
    problems.push(problem('FAIL', s, 'replicates by binlog file and position, not by GTID: it could not be repointed after a failover', `${dialect.stopReplica}; ${USE_GTID[ctx.flavor]}; ${dialect.startReplica} on ${s.name}`));
  }
  if (r.secondsBehind !== null && r.secondsBehind > LAG_WARN_S) {
    problems.push(problem('WARN', s, `is ${r.secondsBehind} s behind its master: a failover onto it first waits until it has applied its relay log (failover.catchup_timeout)`, `find why it lags (long transactions, a slow disk, single-threaded apply: slave_parallel_threads / replica_parallel_workers)`));
  }
  problems.push(...heartbeatProblems(c, s));
  const net = pick(s.variables, 'slave_net_timeout', 'replica_net_timeout');
  const lag = r.secondsBehind === null ? 'lag unknown' : `${r.secondsBehind} s behind`;
  const heartbeat = r.heartbeats ? `, heartbeat every ${r.heartbeats.periodMs / 1000} s` : '';
  return orOk(s, problems, `replicates from ${master} by GTID, IO and SQL threads running, ${lag}, read-only${heartbeat}${net ? `, ${net.name} ${net.value} s` : ''}`);
}

/**
 * A replica tells a hung master from an idle one by its heartbeat: silent for longer than the
 * period, the master is lost. pullover sets the period on every replica it points; one pointed by
 * hand keeps MariaDB's default (half of slave_net_timeout, 30 s), and confirms a hang that late.
 */
function heartbeatProblems(c: ClusterFacts, s: ServerFacts): Finding[] {
  const heartbeats = s.observation.replica?.heartbeats;
  if (!heartbeats) return [];
  const problems: Finding[] = [];
  const wantS = c.replicaHeartbeatMs / 1000;
  const dialect = dialectFor(s.observation.flavor ?? 'mariadb');
  if (heartbeats.periodMs > c.replicaHeartbeatMs) {
    problems.push(problem('WARN', s, `receives a heartbeat every ${heartbeats.periodMs / 1000} s: it confirms a hung or cut-off master only after that long without one (pullover sets ${wantS} s, monitor.replica_heartbeat, on every replica it points)`, `pullover-controller set-heartbeat --cluster ${c.cluster} (it runs ${dialect.setHeartbeat(wantS).join('; ')} on each such replica)`));
  }
  const net = pick(s.variables, 'slave_net_timeout', 'replica_net_timeout');
  if (net && Number(net.value) * 1000 <= heartbeats.periodMs) {
    problems.push(problem('WARN', s, `${net.name} (${net.value} s) is not longer than its heartbeat period (${heartbeats.periodMs / 1000} s): its IO thread gives up on an idle master between two heartbeats and reconnects`, `SET GLOBAL ${net.name}=60 (MariaDB's and MySQL's default) on ${s.name} and in its my.cnf`));
  }
  return problems;
}
