import { compareGtid, type Flavor, gtidContains } from '../mysql/gtid.js';
import { receivedGtid, type ServerObservation } from '../topology/observation.js';

// Whom to promote? A pure function of the survivors as observed. The rule that matters most:
// never promote a server that lacks a transaction another survivor holds — with semi-sync, an
// acknowledged write may exist on one replica only.

/** MHA's rule (check_repl_delay): a candidate whose relay log is this far behind loses its preference. */
export const CANDIDATE_MAX_BACKLOG_BYTES = 100_000_000;

export interface PlannerServer {
  readonly name: string;
  readonly candidate: boolean;
  readonly no_master: boolean;
}

export interface PlannerInput {
  readonly oldMaster: string;
  readonly flavor: Flavor;
  /** The cluster's servers in config order (the last tie-break). */
  readonly servers: readonly PlannerServer[];
  /** Observations of every server but the old master. */
  readonly survivors: readonly ServerObservation[];
  /** A manual failover's chosen target. */
  readonly to?: string | undefined;
  /** Targets of failovers that failed lately: tried after every other eligible replica. */
  readonly avoid?: readonly string[];
}

export type Plan =
  | {
    readonly kind: 'promote';
    readonly target: string;
    /** A survivor holding transactions the target lacks: the target replicates from it first. */
    readonly donor: string | null;
    /** Every other reachable survivor, to repoint at the target. */
    readonly repoint: readonly string[];
    readonly sentence: string;
  }
  | { readonly kind: 'impossible'; readonly sentence: string };

/** Why a survivor cannot be promoted, or undefined when it can. */
export function ineligibility(o: ServerObservation, server: PlannerServer | undefined): string | undefined {
  if (!server) return 'is not in the config';
  if (server.no_master) return 'is marked no_master';
  if (!o.reachable) return `is unreachable (${o.failure?.message ?? 'no answer'})`;
  if (!o.replica) return 'is not a replica';
  if (o.replica.lastSqlErrno !== 0) return `has a broken SQL thread (error ${o.replica.lastSqlErrno}: ${o.replica.lastSqlError})`;
  // Stopped with no error: someone stopped it on purpose (a paused copy, a backup in progress).
  if (!o.replica.sqlRunning) return 'has its SQL thread stopped (START SLAVE SQL_THREAD on it makes it eligible again)';
  if (o.replica.sqlDelay > 0) return `is a delayed replica (MASTER_DELAY ${o.replica.sqlDelay} s)`;
  if (!o.replica.usesGtid) return 'does not replicate by GTID';
  return undefined;
}

export interface Holding {
  readonly name: string;
  /** What it holds: received (relay log included) for a replica, executed for a fenced old master. */
  readonly gtid: string;
}

/** Who holds the most, or the sentence naming two that diverged (each holds transactions the other lacks). */
export function mostAdvanced(flavor: Flavor, holders: readonly Holding[]): { kind: 'best'; best: Holding } | { kind: 'diverged'; sentence: string } {
  let best = holders[0] as Holding;
  for (const h of holders.slice(1)) {
    const cmp = compareGtid(flavor, h.gtid, best.gtid);
    if (cmp === 'diverged') {
      return {
        kind: 'diverged',
        sentence: `${h.name} (${h.gtid}) and ${best.name} (${best.gtid}) have diverged: each holds transactions the other lacks; resolve the errant transactions by hand, then run pullover-controller failover --to NAME`,
      };
    }
    if (cmp === 'ahead') best = h;
  }
  return { kind: 'best', best };
}

/** Why `o` cannot hand its transactions to another server, or undefined when it can. */
export function cannotDonate(o: ServerObservation): string | undefined {
  if (o.writesReplicatedToBinlog === false) return 'writes no binlog of what it replicates (log_slave_updates=OFF)';
  if (o.replica && o.replica.lastSqlErrno !== 0) return `cannot apply them (SQL error ${o.replica.lastSqlErrno}: ${o.replica.lastSqlError})`;
  return undefined;
}

/**
 * The order in which eligible servers are promoted, for a failover and a switchover alike: not the
 * target of a failover that failed lately; a `candidate` (the operator marked it for a reason)
 * unless it has a huge apply backlog, which would hold writes off while it applies it; the most
 * advanced; the least backlogged; config order.
 */
export function rankForPromotion(
  flavor: Flavor,
  servers: readonly PlannerServer[],
  eligible: readonly ServerObservation[],
  avoid: readonly string[] = [],
): ServerObservation[] {
  const byName = new Map(servers.map((s) => [s.name, s]));
  const order = new Map(servers.map((s, i) => [s.name, i]));
  const huge = (o: ServerObservation) => (o.replica?.applyBacklogBytes ?? 0) > CANDIDATE_MAX_BACKLOG_BYTES;
  const key = (o: ServerObservation) => [
    avoid.includes(o.name) ? 1 : 0,
    byName.get(o.name)?.candidate === true && !huge(o) ? 0 : 1,
  ];
  return [...eligible].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] ?? 0) - (kb[i] ?? 0);
    const cmp = compareGtid(flavor, receivedGtid(a), receivedGtid(b));
    if (cmp === 'ahead') return -1;
    if (cmp === 'behind') return 1;
    if (huge(a) !== huge(b)) return huge(a) ? 1 : -1;
    return (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0);
  });
}

export function plan(input: PlannerInput): Plan {
  const byName = new Map(input.servers.map((s) => [s.name, s]));
  const alive = input.survivors.filter((o) => o.reachable);
  if (alive.length === 0) {
    return { kind: 'impossible', sentence: `no survivor of ${input.oldMaster} is reachable; nothing to promote` };
  }

  // The most advanced position any survivor holds, eligible or not: a no_master backup replica may
  // be the only one with the last acknowledged transaction.
  const found = mostAdvanced(input.flavor, alive.map((o) => ({ name: o.name, gtid: receivedGtid(o) })));
  if (found.kind === 'diverged') return { kind: 'impossible', sentence: found.sentence };
  const best = alive.find((o) => o.name === found.best.name) as ServerObservation;

  const reasons: string[] = [];
  const eligible = alive.filter((o) => {
    const why = ineligibility(o, byName.get(o.name));
    if (why) reasons.push(`${o.name} ${why}`);
    return why === undefined;
  });
  const unreachable = input.survivors.filter((o) => !o.reachable).map((o) => `${o.name} is unreachable`);

  // A target lacking what `best` holds must get it from `best`: not possible when `best` cannot donate.
  const needsDonor = (o: ServerObservation) => !gtidContains(input.flavor, receivedGtid(o), receivedGtid(best));
  const donorProblem = cannotDonate(best);
  const served = donorProblem === undefined ? eligible : eligible.filter((o) => !needsDonor(o));
  let target: ServerObservation | undefined;
  if (input.to !== undefined) {
    target = eligible.find((o) => o.name === input.to);
    if (!target) {
      const found = input.survivors.find((o) => o.name === input.to);
      const why = found ? ineligibility(found, byName.get(found.name)) : 'is not a survivor of this cluster';
      return { kind: 'impossible', sentence: `cannot promote ${input.to}: it ${why ?? 'is not eligible'}` };
    }
    if (!served.includes(target)) {
      return { kind: 'impossible', sentence: `cannot promote ${input.to}: ${best.name} alone holds ${receivedGtid(best)} but ${donorProblem}; promote ${best.name} or make it serve its binlog first` };
    }
  } else {
    target = rankForPromotion(input.flavor, input.servers, served, input.avoid)[0];
    if (!target && eligible.length > 0) {
      return {
        kind: 'impossible',
        sentence: `no server can replace ${input.oldMaster} without losing transactions: ${best.name} alone holds ${receivedGtid(best)} but ${donorProblem}; ${eligible.map((o) => o.name).join(', ')} lack(s) them`,
      };
    }
  }
  if (!target) {
    return {
      kind: 'impossible',
      sentence: `no server can replace ${input.oldMaster}: ${[...reasons, ...unreachable].join('; ')}`,
    };
  }

  const behind = !gtidContains(input.flavor, receivedGtid(target), receivedGtid(best));
  const donor = behind ? best.name : null;
  const repoint = alive.filter((o) => o.name !== target.name).map((o) => o.name);
  const backlog = target.replica?.applyBacklogBytes ?? 0;
  const why = byName.get(target.name)?.candidate && backlog <= CANDIDATE_MAX_BACKLOG_BYTES ? 'candidate' : 'most advanced eligible replica';
  return {
    kind: 'promote',
    target: target.name,
    donor,
    repoint,
    sentence: `promote ${target.name} (${why}, at ${receivedGtid(target) || 'empty'})${donor ? ` after it catches up from ${donor} (at ${receivedGtid(best)})` : ''}${repoint.length > 0 ? `; repoint ${repoint.join(', ')}` : ''}`,
  };
}
