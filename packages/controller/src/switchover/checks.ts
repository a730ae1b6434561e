import type { Flavor } from '../mysql/gtid.js';
import type { ServerObservation } from '../topology/observation.js';
import { type PlannerServer, rankForPromotion } from '../failover/planner.js';

// May the master be moved now, and to whom? A pure function of one look at every server. A
// switchover blocks writes for its duration: every check that could make it fail midway is made
// first, while nothing has changed yet.

export interface SwitchoverCheckInput {
  readonly master: { readonly name: string; readonly address: string; readonly port: number };
  readonly servers: readonly PlannerServer[];
  /** Every server of the cluster, as just observed. */
  readonly observations: readonly ServerObservation[];
  /** Former masters kept out of replication: not checked, not moved. */
  readonly fenced: readonly string[];
  readonly to?: string | undefined;
  readonly maxLagS: number;
  readonly blockedUntil: Date | undefined;
  readonly now: Date;
  readonly agents: { readonly live: number; readonly current: number; readonly behind: readonly string[] };
}

export type SwitchoverCheck =
  | {
    readonly ok: true;
    readonly target: string;
    /** The replicas to repoint at the target, the old master first. */
    readonly repoint: readonly string[];
    readonly checks: readonly string[];
  }
  | { readonly ok: false; readonly checks: readonly string[]; readonly problems: readonly string[] };

export function checkSwitchover(input: SwitchoverCheckInput): SwitchoverCheck {
  const checks: string[] = [];
  const problems: string[] = [];
  const { master } = input;
  const byName = new Map(input.observations.map((o) => [o.name, o]));
  const config = new Map(input.servers.map((s) => [s.name, s]));

  if (input.blockedUntil && input.blockedUntil > input.now) {
    problems.push(
      `automatic failover is blocked until ${input.blockedUntil.toISOString()} after the last failover: check the cluster, then pullover-controller ack first`,
    );
  }
  const m = byName.get(master.name);
  if (!m?.reachable) problems.push(`${master.name} (the master) does not answer: ${m?.failure?.message ?? 'not observed'}; use failover for a dead master`);
  else if (m.readOnly) problems.push(`${master.name} (the master) is read_only: nothing to switch over from`);
  else checks.push(`${master.name} is the master: writable at ${m.executedGtid || 'empty'}`);

  const replicas = input.observations.filter((o) => o.name !== master.name && !input.fenced.includes(o.name));
  const healthy: ServerObservation[] = [];
  for (const r of replicas) {
    const why = unhealthy(r, master, input.maxLagS);
    if (why) problems.push(`${r.name} ${why}`);
    else {
      healthy.push(r);
      checks.push(`${r.name} replicates from ${master.name}, ${r.replica?.secondsBehind ?? 0} s behind`);
    }
  }
  for (const name of input.fenced) checks.push(`${name} is fenced (a former master): left out; rejoin it first to include it`);

  const flavor: Flavor = m?.flavor ?? 'mariadb';
  const eligible = healthy.filter((r) => !config.get(r.name)?.no_master);
  let target: ServerObservation | undefined;
  if (input.to !== undefined) {
    if (input.to === master.name) problems.push(`${input.to} is already the master`);
    else if (!config.has(input.to)) problems.push(`${input.to} is not a server of this cluster`);
    else if (config.get(input.to)?.no_master) problems.push(`${input.to} is marked no_master`);
    else target = eligible.find((r) => r.name === input.to);
    if (!target && !problems.some((p) => p.startsWith(`${input.to} `))) problems.push(`${input.to} cannot take over: see above`);
  } else {
    // The failover's ranking: a switchover picks whom a failover would.
    target = rankForPromotion(flavor, input.servers, eligible)[0];
    if (!target && problems.length === 0) problems.push(`no replica can take over from ${master.name} (none is eligible and healthy)`);
  }

  const { agents } = input;
  checks.push(
    agents.live === 0
      ? 'no agent has reported recently: nobody will confirm the switch'
      : `${agents.current} of ${agents.live} live agent(s) on the current version${agents.behind.length > 0 ? ` (behind: ${agents.behind.join(', ')})` : ''}`,
  );

  if (problems.length > 0 || !target) return { ok: false, checks, problems };
  const chosen = target.name;
  checks.push(`target: ${chosen}${config.get(chosen)?.candidate ? ' (candidate)' : ''}`);
  const repoint = [master.name, ...replicas.map((r) => r.name).filter((n) => n !== chosen)];
  return { ok: true, target: chosen, repoint, checks };
}

function unhealthy(r: ServerObservation, master: SwitchoverCheckInput['master'], maxLagS: number): string | undefined {
  if (!r.reachable) return `does not answer (${r.failure?.message ?? 'not observed'})`;
  const rep = r.replica;
  if (!rep) return 'replicates from nobody';
  if (rep.masterHost !== master.address || rep.masterPort !== master.port) return `replicates from ${rep.masterHost}:${rep.masterPort}, not from ${master.name}`;
  if (rep.io !== 'yes') return `has its IO thread ${rep.io}${rep.lastIoErrno ? ` (error ${rep.lastIoErrno}: ${rep.lastIoError})` : ''}`;
  if (!rep.sqlRunning) return `has its SQL thread stopped${rep.lastSqlErrno ? ` (error ${rep.lastSqlErrno}: ${rep.lastSqlError})` : ''}`;
  if (!rep.usesGtid) return 'does not replicate by GTID';
  if (rep.secondsBehind === null || rep.secondsBehind > maxLagS) return `is ${rep.secondsBehind ?? '?'} s behind (limit ${maxLagS} s; --max-lag)`;
  return undefined;
}
