import type { Flavor } from '../mysql/gtid.js';

// Which global privileges the monitoring user needs for a failover, read from SHOW GRANTS.
// Only `ON *.*` lines count (privileges granted through roles are not followed).

export interface Privilege {
  readonly name: string;
  /** What the controller does with it, for the message. */
  readonly for: string;
  /** Whether SUPER includes it. */
  readonly inSuper: boolean;
}

// Checked on MariaDB 10.11.19: an account with SUPER alone can stop, change and start replication,
// read SHOW SLAVE STATUS and kill other users' connections, but SET GLOBAL read_only is refused
// (READ_ONLY ADMIN was split off SUPER, MDEV-29596) and the processlist shows only its own
// connections (PROCESS), so fencing would find no client connection to kill.
export const NEEDED: Readonly<Record<Flavor, readonly Privilege[]>> = {
  mariadb: [
    { name: 'READ_ONLY ADMIN', for: 'set read_only', inSuper: false },
    { name: 'REPLICATION SLAVE ADMIN', for: 'stop, change and start replication', inSuper: true },
    { name: 'CONNECTION ADMIN', for: 'kill client connections', inSuper: true },
    { name: 'PROCESS', for: 'see every connection in the processlist', inSuper: false },
    { name: 'SLAVE MONITOR', for: 'read SHOW SLAVE STATUS', inSuper: true },
    { name: 'BINLOG MONITOR', for: 'read the binlog state', inSuper: true },
  ],
  mysql: [
    { name: 'SYSTEM_VARIABLES_ADMIN', for: 'set read_only and super_read_only', inSuper: true },
    { name: 'REPLICATION_SLAVE_ADMIN', for: 'stop, change and start replication', inSuper: true },
    { name: 'CONNECTION_ADMIN', for: 'kill client connections', inSuper: true },
    { name: 'PROCESS', for: 'see every connection in the processlist', inSuper: false },
    { name: 'REPLICATION CLIENT', for: 'read SHOW REPLICA STATUS', inSuper: true },
  ],
};

// Other spellings of one privilege. MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR.
const ALIASES: Readonly<Record<Flavor, Readonly<Record<string, string>>>> = {
  mariadb: {
    'REPLICATION CLIENT': 'BINLOG MONITOR',
    'REPLICA MONITOR': 'SLAVE MONITOR',
    'REPLICATION REPLICA ADMIN': 'REPLICATION SLAVE ADMIN',
    'READ ONLY ADMIN': 'READ_ONLY ADMIN',
    'REPLICATION REPLICA': 'REPLICATION SLAVE',
  },
  mysql: { 'REPLICATION REPLICA': 'REPLICATION SLAVE' },
};

/** The global privileges in SHOW GRANTS lines, upper-case, aliases resolved; ALL for ALL PRIVILEGES. */
export function globalPrivileges(flavor: Flavor, grants: readonly string[]): Set<string> {
  const have = new Set<string>();
  for (const line of grants) {
    const m = /^GRANT\s+(.+?)\s+ON\s+\*\.\*\s+TO\s/i.exec(line);
    for (const raw of m?.[1]?.split(',') ?? []) {
      const name = raw.trim().replace(/\s+/g, ' ').toUpperCase();
      have.add(name === 'ALL PRIVILEGES' ? 'ALL' : (ALIASES[flavor][name] ?? name));
    }
  }
  return have;
}

/** What the monitoring user lacks for a failover; empty when nothing. */
export function missingPrivileges(flavor: Flavor, grants: readonly string[]): Privilege[] {
  const have = globalPrivileges(flavor, grants);
  if (have.has('ALL')) return [];
  return NEEDED[flavor].filter((p) => !have.has(p.name) && !(p.inSuper && have.has('SUPER')));
}

/** Whether the replication user may read the binlog of a master. */
export function canReplicate(flavor: Flavor, grants: readonly string[]): boolean {
  const have = globalPrivileges(flavor, grants);
  return have.has('ALL') || have.has('REPLICATION SLAVE');
}

/** The account SHOW GRANTS is about, as GRANT wants it ('pullover'@'%'), or undefined. */
export function grantee(grants: readonly string[]): string | undefined {
  for (const line of grants) {
    const m = /\sTO\s+[`']?([^`'@\s]+)[`']?@[`']?([^`'\s]+)[`']?/i.exec(line);
    if (m) return `'${m[1]}'@'${m[2]}'`;
  }
  return undefined;
}
