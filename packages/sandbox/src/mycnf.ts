// The my.cnf of one sandbox mariadbd: the settings production should have (GTID, binlog, read-only at
// start), plus what makes a test cluster start fast and fail fast on 2 cores.
import { join } from 'node:path';

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

/**
 * What the tests use unless told otherwise: replicas notice a silent (paused) master within seconds
 * rather than MariaDB's default minute (60).
 */
export const TEST_SLAVE_NET_TIMEOUT_S = 4;

export interface MyCnf {
  dir: string;
  datadir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  address: string;
  port: number;
  serverId: number;
  semisync: Semisync;
  /** Seconds; also sets the default MASTER_HEARTBEAT_PERIOD (half of it) of a CHANGE MASTER that names none. */
  slaveNetTimeout: number;
}

export function renderMyCnf(cnf: MyCnf): string {
  const production = cnf.semisync === 'production';
  const semisync = cnf.semisync
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
    `datadir=${cnf.datadir}`,
    // Parallel instances sharing /tmp collide on temporary file names.
    `tmpdir=${join(cnf.dir, 'tmp')}`,
    `socket=${cnf.socket}`,
    `pid_file=${cnf.pidFile}`,
    `log_error=${cnf.logFile}`,
    `bind_address=${cnf.address}`,
    `port=${cnf.port}`,
    `server_id=${cnf.serverId}`,
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
    `slave_net_timeout=${cnf.slaveNetTimeout}`,
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
  return lines.join('\n');
}
