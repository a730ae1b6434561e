import { ineligibility, type Plan, plan } from '../failover/planner.js';
import type { Flavor } from '../mysql/gtid.js';
import type { ClusterBase, ClusterFacts, Finding, ServerFacts } from './facts.js';
import { connectivity, monitoringGrants, reason, replicationLogin } from './login.js';
import { binlogAndGtid, masterRole, replicaRole } from './replication.js';
import { semisyncSettings } from './semisync.js';

// `pullover-controller check`: from what was gathered to one line per finding. Pure, so that the
// tests are tables of facts; the gathering is gather.ts.

export interface ClusterReport {
  readonly cluster: string;
  readonly master: string;
  readonly findings: readonly Finding[];
  /** What the planner would do if the master died now. */
  readonly plan: Plan;
}

export function checkCluster(c: ClusterFacts, now: Date): ClusterReport {
  const master = c.servers.find((s) => s.name === c.master);
  if (!master) throw new Error(`cluster ${c.cluster} has no server ${c.master}`);
  // The master's flavor decides; a server of the other flavor is a finding of its own.
  const flavor: Flavor = master.observation.flavor ?? c.servers.find((s) => s.observation.flavor)?.observation.flavor ?? 'mariadb';
  const findings: Finding[] = [];
  for (const s of c.servers) findings.push(...serverFindings(c, s, master, flavor));
  findings.push(...automation(c, now));
  const decided = planNow(c, flavor);
  if (decided.kind === 'impossible') {
    findings.push({
      level: 'FAIL',
      server: c.master,
      text: `no failover is possible: if ${c.master} died now, ${decided.sentence}`,
      fix: c.servers.some((s) => s.no_master && s.name !== c.master)
        ? 'fix the FAIL lines above, or remove no_master from a replica that may become the master'
        : 'fix the FAIL lines above',
    });
  } else {
    findings.push(...ignoredCandidates(c, decided.target));
  }
  return { cluster: c.cluster, master: c.master, findings, plan: decided };
}

function serverFindings(c: ClusterFacts, s: ServerFacts, master: ServerFacts, flavor: Flavor): Finding[] {
  if (c.fenced.includes(s.name)) return fencedServer(c, s);
  const found = connectivity(c, s, flavor);
  // Nothing more to learn: no login, or a server of the other flavor (its settings mean other things).
  if (!s.loggedIn || (s.observation.flavor ?? flavor) !== flavor) return found;
  found.push(...monitoringGrants(c, s, flavor), ...replicationLogin(c, s, flavor));
  if (!s.observation.reachable) return found;
  const role = s.name === c.master ? 'master' : s.no_master ? 'replica' : 'promotable';
  found.push(...binlogAndGtid(s, flavor, role));
  if (role !== 'replica') found.push(...semisyncSettings(c, s, flavor, role));
  found.push(...(role === 'master' ? masterRole(s, flavor) : replicaRole(c, s, { flavor, master })));
  return found;
}

/** A former master kept read-only: out of every failover until it is rebuilt. */
function fencedServer(c: ClusterFacts, s: ServerFacts): Finding[] {
  const o = s.observation;
  if (o.reachable && o.readOnly === false) {
    return [{
      level: 'FAIL',
      server: s.name,
      text: `the fenced former master is writable: two masters`,
      fix: `SET GLOBAL read_only=ON on ${s.name} now (a running controller does it the moment it sees it)`,
    }];
  }
  return [{
    level: 'WARN',
    server: s.name,
    text: `a fenced former master (${o.reachable ? 'answers, read-only' : 'does not answer'}): pullover never promotes nor repoints it, so it takes no part in a failover`,
    fix: `rebuild it as a replica of ${c.master} (its data may have diverged); it leaves the fenced list when set-master names it`,
  }];
}

/** Failover that would not start by itself. */
function automation(c: ClusterFacts, now: Date): Finding[] {
  const found: Finding[] = [];
  if (!c.auto) {
    found.push({
      level: 'WARN',
      server: c.master,
      text: 'automatic failover is off (failover.auto: false): a dead master stays dead until someone runs pullover-controller failover',
      fix: 'set failover.auto: true in the config, unless a person is meant to decide',
    });
  }
  if (c.blockedUntil !== null && new Date(c.blockedUntil).getTime() > now.getTime()) {
    found.push({
      level: 'WARN',
      server: c.master,
      text: `automatic failover is blocked until ${c.blockedUntil} after the last failover (failover.min_interval)`,
      fix: `pullover-controller ack --cluster ${c.cluster} once the last failover is dealt with`,
    });
  }
  return found;
}

/** The planner, as if the master died now: the survivors are the other servers as observed. */
function planNow(c: ClusterFacts, flavor: Flavor): Plan {
  const survivors = c.servers
    .filter((s) => s.name !== c.master && !c.fenced.includes(s.name))
    .map((s) => s.observation);
  try {
    return plan({ oldMaster: c.master, flavor, servers: c.servers, survivors });
  } catch (error) {
    // A GTID position the comparison cannot read: no planner would decide on it either.
    return { kind: 'impossible', sentence: `the positions cannot be compared: ${(error as Error).message}` };
  }
}

/** Servers marked candidate that the planner would pass over, and why. */
function ignoredCandidates(c: ClusterFacts, target: string): Finding[] {
  return c.servers
    .filter((s) => s.candidate && s.name !== target && s.name !== c.master && !c.fenced.includes(s.name))
    .map((s) => ({ s, why: ineligibility(s.observation, s) }))
    .filter(({ why }) => why !== undefined)
    .map(({ s, why }) => ({
      level: 'WARN' as const,
      server: s.name,
      text: `is marked candidate but would not be promoted: it ${why}; ${target} would be`,
      fix: `fix that, or move candidate: true to the replica you want promoted`,
    }));
}

export function formatFinding(cluster: string, f: Finding): string {
  return `${f.level.padEnd(4)}  ${cluster}/${f.server}: ${f.text}${f.fix ? ` → fix: ${f.fix}` : ''}`;
}

export function failed(report: ClusterReport): boolean {
  return report.findings.some((f) => f.level === 'FAIL');
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** The report's last line: ready or not, and what the planner would do. */
export function verdict(report: ClusterReport): string {
  const fails = report.findings.filter((f) => f.level === 'FAIL').length;
  const warns = report.findings.filter((f) => f.level === 'WARN').length;
  const state = fails > 0
    ? `NOT ready: ${count(fails, 'problem')} to fix${warns > 0 ? `, ${count(warns, 'warning')}` : ''}`
    : `ready: a failover would work${warns > 0 ? ` (${count(warns, 'warning')})` : ''}`;
  return `${report.cluster}: ${state}; if ${report.master} died now: ${report.plan.sentence}`;
}

/** The line shown as each server is checked. */
export function progress(c: ClusterBase, s: ServerFacts): string {
  const o = s.observation;
  const role = s.name === c.master ? `the master per ${c.masterFrom}, ` : '';
  const at = `checked ${c.cluster}/${s.name} (${role}${s.address}:${c.port})`;
  if (!o.reachable) return `${at}: ${o.failure?.kind === 'refused' ? 'connection refused' : o.failure?.kind === 'timeout' ? 'no answer' : reason(s.name, o.failure?.message ?? 'no answer')}`;
  const source = o.replica ? `replicates from ${o.replica.masterHost}` : 'replicates from nobody';
  return `${at}: ${o.flavor === 'mysql' ? 'MySQL' : 'MariaDB'} ${o.version}, ${o.readOnly ? 'read-only' : 'writable'}, ${source}`;
}
