import type { MysqlSession } from './session.js';

// Semi-sync as a master follows the role pullover gives a server. ON where it makes a server
// writable, so that the new master, like the old one, acknowledges a commit only once a replica
// holds it. OFF where it makes a server a replica: on MariaDB a replica with semi-sync as master
// on, log_slave_updates and rpl_semi_sync_master_wait_no_slave=ON (as production needs) makes its
// SQL thread wait rpl_semi_sync_master_timeout for an acknowledgement nobody sends.

/** MySQL 8.0.26+ says source/replica; MariaDB and older MySQL master/slave. */
const NAMES = [
  { master: 'rpl_semi_sync_source_enabled', replica: 'rpl_semi_sync_replica_enabled' },
  { master: 'rpl_semi_sync_master_enabled', replica: 'rpl_semi_sync_slave_enabled' },
] as const;

/**
 * Turns semi-sync as a master on or off on the session's server. On only where the cluster
 * replicates semi-synchronously (the server acknowledges as a replica); nothing where the
 * variables do not exist (MySQL without the plugins). Resolves with what was changed, for step details.
 */
export async function semisyncAsMaster(session: MysqlSession, on: boolean): Promise<string | undefined> {
  const rows = await session.query<{ Variable_name: string; Value: string }[]>('SHOW GLOBAL VARIABLES LIKE \'rpl\\_semi\\_sync\\_%\'');
  const value = new Map(rows.map((r) => [r.Variable_name, r.Value]));
  const names = NAMES.find((n) => value.has(n.master));
  if (!names) return undefined;
  const enabled = value.get(names.master) === 'ON';
  if (enabled === on || (on && value.get(names.replica) !== 'ON')) return undefined;
  await session.query(`SET GLOBAL ${names.master}=${on ? 'ON' : 'OFF'}`);
  return `${names.master}=${on ? 'ON' : 'OFF'}`;
}
