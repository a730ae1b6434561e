import { formatDuration } from '@pullover/protocol';
import type { ClusterConfig } from '../config/load.js';
import type { Flavor } from '../mysql/gtid.js';
import { type ClusterBase, type FailoverBound, type Finding, isOn, pick, type ServerFacts } from './facts.js';

// Semi-sync settings that keep a write acknowledged to an application from existing on the master
// alone. A master that stops waiting for its replicas (a timeout, or none connected) acknowledges
// commits only it holds; if it is frozen or cut off, the failover promotes a replica without them.

/**
 * The shortest rpl_semi_sync_master_timeout accepted, whatever the config says: a failover's length
 * follows settings that change after `check` ran, a thawed or reconnected master is fenced only at
 * the monitor's next look, and stalls of this order (a VM migrated, a storage hiccup, a partition
 * healing) are common. Longer costs little: only when no replica acknowledges does a commit wait
 * that long, once, before the master switches to asynchronous replication.
 */
const TIMEOUT_FLOOR_MS = 5 * 60_000;

/**
 * From the master's last answer to every agent on the new master. A master frozen at the start
 * that thaws at the end must still be waiting for its replicas when pullover fences it: its client
 * connections are killed then, and a commit killed while waiting was never acknowledged.
 */
export function failoverBound(cluster: ClusterConfig): FailoverBound {
  const { monitor, failover } = cluster;
  const commands = [failover.hooks?.before, failover.mha_failover_script, failover.fence_command]
    .filter(Boolean).length;
  const parts: [number, string][] = [
    // The monitor then waits 2 × monitor.timeout for the app servers' view (monitor/cluster-monitor.ts).
    [monitor.failures * (monitor.interval + monitor.timeout) + 2 * monitor.timeout, 'detection'],
    [monitor.timeout + commands * failover.command_timeout, `fencing${commands > 0 ? ` with ${commands} command(s)` : ''}`],
    // Catching up and repointing are each bounded by catchup_timeout.
    [2 * failover.catchup_timeout, 'catch-up and repointing'],
    [failover.agents_timeout, 'the agents'],
  ];
  const ms = parts.reduce((sum, [part]) => sum + part, 0);
  return { ms, how: parts.map(([part, what]) => `${what} ${formatDuration(part)}`).join(', ') };
}

interface Names {
  readonly enabled: string;
  readonly timeout: string;
  readonly alone: string;
  readonly replica: string;
}

const MASTER_SLAVE: Names = {
  enabled: 'rpl_semi_sync_master_enabled',
  timeout: 'rpl_semi_sync_master_timeout',
  alone: 'rpl_semi_sync_master_wait_no_slave',
  replica: 'rpl_semi_sync_slave_enabled',
};
// MySQL 8.0.26+; before it, and with the old plugins, MySQL says master and slave like MariaDB.
const SOURCE_REPLICA: Names = {
  enabled: 'rpl_semi_sync_source_enabled',
  timeout: 'rpl_semi_sync_source_timeout',
  alone: 'rpl_semi_sync_source_wait_no_replica',
  replica: 'rpl_semi_sync_replica_enabled',
};

const RESTART_IO: Readonly<Record<Flavor, string>> = {
  mariadb: 'STOP SLAVE IO_THREAD; START SLAVE IO_THREAD',
  mysql: 'STOP REPLICA IO_THREAD; START REPLICA IO_THREAD',
};
const PLUGINS = ' (first INSTALL PLUGIN rpl_semi_sync_source SONAME \'semisync_source.so\' and rpl_semi_sync_replica SONAME \'semisync_replica.so\' if the variables are missing)';

/** The floor or the failover's length, whichever is longer. */
export function requiredTimeoutMs(bound: FailoverBound): number {
  return Math.max(TIMEOUT_FLOOR_MS, bound.ms);
}

/**
 * On the master: semi-sync on as master, waiting longer than a failover, also with no replica
 * connected. On every server that may become it: the same waits, ready for when pullover turns
 * semi-sync as a master on at promotion (off until then), and acknowledging as a replica.
 */
export function semisyncSettings(c: ClusterBase, s: ServerFacts, flavor: Flavor, role: 'master' | 'promotable'): Finding[] {
  const v = s.variables;
  if (Object.keys(v).length === 0) return [];
  const get = (key: keyof Names) => pick(v, SOURCE_REPLICA[key], MASTER_SLAVE[key]) ?? { name: (flavor === 'mysql' ? SOURCE_REPLICA : MASTER_SLAVE)[key], value: 'unset' };
  const set = (name: string, value: string) => `SET GLOBAL ${name}=${value} on ${s.name}, and ${name}=${value} in its my.cnf`;
  const plugins = flavor === 'mysql' ? PLUGINS : '';
  const it = role === 'promotable' ? 'once promoted, it would' : 'it would';
  const [enabled, timeout, alone, replica] = [get('enabled'), get('timeout'), get('alone'), get('replica')];
  const required = requiredTimeoutMs(c.failoverBound);
  const problems: Finding[] = [];
  const fail = (text: string, fix: string) => problems.push({ level: 'FAIL', server: s.name, text, fix });

  if (role === 'master' && !isOn(enabled.value)) {
    fail(
      `${enabled.name} is ${enabled.value}: ${it} acknowledge writes to applications that exist on it only, and a failover loses them`,
      `SET GLOBAL ${enabled.name}=ON on ${s.name} (leave it OFF in my.cnf: pullover turns it on where it makes a server writable, off on replicas)${plugins}`,
    );
  }
  if (role === 'promotable' && isOn(enabled.value) && isOn(alone.value)) {
    // Seen on MariaDB 10.11: the applier's commits wait for an acknowledgement nobody sends.
    fail(
      `${enabled.name} is ON on a replica: with ${alone.name} ON its SQL thread waits ${timeout.value} ms for an acknowledgement no replica of its own sends; pullover turns it on where it makes a server writable (failover, switchover, set-writable)`,
      `SET GLOBAL ${enabled.name}=OFF on ${s.name}, and ${enabled.name}=OFF in every server's my.cnf`,
    );
  }
  if (!(Number(timeout.value) >= required)) {
    fail(
      `${timeout.name} is ${timeout.value} ms: frozen or cut off from its replicas for longer, ${it} stop waiting for them and acknowledge commits that the failover then discards; a failover can take ${formatDuration(c.failoverBound.ms)} here (${c.failoverBound.how}), so wait at least ${formatDuration(required)}`,
      `${set(timeout.name, String(required))} (longer protects against longer stalls, and costs only one commit's wait when no replica acknowledges)`,
    );
  }
  if (!isOn(alone.value)) {
    fail(`${alone.name} is ${alone.value}: cut off from every replica, ${it} stop waiting at once and acknowledge commits that the failover then discards`, set(alone.name, 'ON'));
  }
  if (role === 'promotable' && !isOn(replica.value)) {
    fail(`${replica.name} is ${replica.value}: it does not acknowledge the master's writes, so a failover onto it depends on catching up from a replica that did`, `${set(replica.name, 'ON')}, then ${RESTART_IO[flavor]}${plugins}`);
  }
  if (problems.length > 0) return problems;
  const ok = [
    `${enabled.name} ${role === 'master' ? 'ON' : 'OFF (on once promoted)'}`,
    `${timeout.name} ${formatDuration(Number(timeout.value))} (at least ${formatDuration(required)})`,
    `${alone.name} ON`,
  ];
  if (role === 'promotable') ok.push(`${replica.name} ON`);
  return [{ level: 'ok', server: s.name, text: `semi-sync: ${ok.join(', ')}` }];
}
