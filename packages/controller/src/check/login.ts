import type { Flavor } from '../mysql/gtid.js';
import type { ClusterFacts, Finding, LoginFailure, ServerFacts } from './facts.js';
import { canReplicate, grantee, missingPrivileges } from './grants.js';

// Can pullover's two MySQL accounts do their part on this server?

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** The reason a login failed, without the "mysql1: " its message starts with. */
export function reason(server: string, message: string): string {
  return message.startsWith(`${server}: `) ? message.slice(server.length + 2) : message;
}

/** Refused, timeout and access denied each have their cause and their fix. */
export function loginFailure(
  c: ClusterFacts,
  s: ServerFacts,
  user: string,
  passwordKey: string,
  failure: LoginFailure,
): Finding {
  const at = `${s.address}:${c.port}`;
  const why = reason(s.name, failure.message);
  switch (failure.kind) {
    case 'refused':
      return {
        level: 'FAIL',
        server: s.name,
        text: `connection refused at ${at}: no mysqld listens there`,
        fix: `start mysqld on ${s.name}, or correct its address or mysql.port in the config`,
      };
    case 'timeout':
      return {
        level: 'FAIL',
        server: s.name,
        text: `no answer from ${at} within ${seconds(c.timeoutMs)} (monitor.timeout): the host is down, a firewall drops the packets, or mysqld hangs`,
        fix: `check that ${s.name} is up and that port ${c.port} is open from this host`,
      };
    case 'rejected':
      if (/access denied/i.test(why)) {
        return {
          level: 'FAIL',
          server: s.name,
          text: `access denied for ${user}: ${why}`,
          fix: `check mysql.${passwordKey}, and that the account ${user}@<this host> exists on ${s.name} with that password (CREATE USER, or ALTER USER … IDENTIFIED BY)`,
        };
      }
      return { level: 'FAIL', server: s.name, text: `mysqld refused ${user}: ${why}`, fix: `remove the cause the message names (max_connections reached, or a blocked host: FLUSH HOSTS)` };
    default:
      return { level: 'FAIL', server: s.name, text: `cannot log in as ${user}: ${why}`, fix: `remove the cause the message names, then run check again` };
  }
}

/** The monitoring user: logged in, and the flavor and version it found. */
export function connectivity(c: ClusterFacts, s: ServerFacts, flavor: Flavor): Finding[] {
  const o = s.observation;
  if (!s.loggedIn) return [loginFailure(c, s, c.user, 'password_file', o.failure ?? { kind: 'error', message: 'no answer' })];
  if (!o.reachable) {
    return [{
      level: 'FAIL',
      server: s.name,
      text: `${c.user} logs in but cannot read the server's state: ${reason(s.name, o.failure?.message ?? '')}`,
      fix: `grant ${c.user} the privileges the message names`,
    }];
  }
  const found = `${o.flavor === 'mysql' ? 'MySQL' : 'MariaDB'} ${o.version}`;
  if (o.flavor !== flavor) {
    return [{
      level: 'FAIL',
      server: s.name,
      text: `runs ${found}, unlike the master: pullover fails over only between servers of one flavor`,
      fix: `replace ${s.name} with a ${flavor === 'mysql' ? 'MySQL' : 'MariaDB'} server, or remove it from the cluster`,
    }];
  }
  return [{ level: 'ok', server: s.name, text: `${c.user} logs in: ${found}` }];
}

/** The monitoring user's grants: fencing, promoting and repointing all go through it. */
export function monitoringGrants(c: ClusterFacts, s: ServerFacts, flavor: Flavor): Finding[] {
  if (s.grants.length === 0) return [];
  const missing = missingPrivileges(flavor, s.grants);
  if (missing.length === 0) return [{ level: 'ok', server: s.name, text: `${c.user} has every privilege a failover needs` }];
  return [{
    level: 'FAIL',
    server: s.name,
    text: `${c.user} lacks ${missing.map((p) => `${p.name} (to ${p.for})`).join(', ')}`,
    fix: `GRANT ${missing.map((p) => p.name).join(', ')} ON *.* TO ${grantee(s.grants) ?? `'${c.user}'@'%'`}`,
  }];
}

/** The replication user, on a server that could become the master: replicas will log in with it. */
export function replicationLogin(c: ClusterFacts, s: ServerFacts, flavor: Flavor): Finding[] {
  const r = s.replication;
  if (r === undefined) return [];
  if ('failure' in r) return [loginFailure(c, s, c.replicationUser, 'replication_password_file', r.failure)];
  if (!canReplicate(flavor, r.grants)) {
    return [{
      level: 'FAIL',
      server: s.name,
      text: `${c.replicationUser} logs in but lacks REPLICATION SLAVE: replicas could not read ${s.name}'s binlog`,
      fix: `GRANT REPLICATION SLAVE ON *.* TO ${grantee(r.grants) ?? `'${c.replicationUser}'@'%'`}`,
    }];
  }
  return [{ level: 'ok', server: s.name, text: `${c.replicationUser} logs in with REPLICATION SLAVE (from this host; replicas connect from theirs)` }];
}
