import type { ServerConfig } from '../config/load.js';
import { detect, type DetectorInput, type Verdict } from '../failover/detector.js';
import { gate } from '../failover/gate.js';
import { type Plan, plan } from '../failover/planner.js';
import type { RunningFailover } from '../state/schema.js';
import type { ServerObservation } from '../topology/observation.js';

// What the monitor does after one look at the cluster: a pure function from what was observed
// (and the little it remembers between looks) to one action with its sentence. The monitor only
// gathers the snapshot and carries the action out.

export interface Snapshot {
  readonly cluster: string;
  /** What the detector weighs: pings, replicas, their silence, the agents. */
  readonly detector: DetectorInput;
  /** Every server as observed this round, the master included. */
  readonly observed: readonly ServerObservation[];
  /** The cluster's servers in config order. */
  readonly servers: readonly ServerConfig[];
  /** Candidates for promotion: neither the master nor a fenced former master. */
  readonly survivors: readonly string[];
  /** A failover journaled by a controller that died before finishing it. */
  readonly journal: RunningFailover | undefined;
  readonly auto: boolean;
  readonly restartRecovery: 'manual' | 'auto';
  readonly blockedUntil: Date | undefined;
  readonly paused: { readonly until: Date; readonly reason: string | null } | undefined;
}

/** What the monitor keeps from one look to the next. */
export interface Memory {
  /** No automatic failover before this time: the last one failed. */
  readonly retryAfter: Date | undefined;
  /** Targets of failovers that failed since the master was last seen alive: tried after the others. */
  readonly failedTargets: readonly string[];
}

export type Action =
  /** Nothing to do: the master lives, or its death is not confirmed. */
  | { readonly kind: 'wait'; readonly sentence: string }
  /** The master is dead, but a switch, a pause, a block or a backoff holds the failover. */
  | { readonly kind: 'blocked'; readonly sentence: string }
  /** The master is dead and no server can replace it. */
  | { readonly kind: 'impossible'; readonly sentence: string }
  | { readonly kind: 'promote'; readonly plan: Extract<Plan, { kind: 'promote' }>; readonly sentence: string }
  /** A journaled failover goes on: its old master is dead again, or its target was promoted already. */
  | { readonly kind: 'resume'; readonly journal: RunningFailover; readonly sentence: string }
  /** A journaled failover whose old master answered before anything was promoted: it stays the master (the sentence is the record's error). */
  | { readonly kind: 'cancel'; readonly journal: RunningFailover; readonly sentence: string }
  /** restart_recovery: auto — a master back read_only is made writable if set-writable's check passes. */
  | { readonly kind: 'make-writable'; readonly sentence: string };

/** After a failed failover, the next automatic attempt waits this long, doubled after each further failure: a failing step is not hammered. */
const RETRY_FAILED_MS = 30_000;
const RETRY_FAILED_MAX_MS = 10 * 60_000;

/** What the monitor remembers once a failover onto `target` failed at `now`: try the others first, and not at once. */
export function afterFailure(memory: Memory, target: string, now: Date): Memory {
  const failedTargets = [...memory.failedTargets.filter((n) => n !== target), target];
  const wait = Math.min(RETRY_FAILED_MAX_MS, RETRY_FAILED_MS * 2 ** (failedTargets.length - 1));
  return { failedTargets, retryAfter: new Date(now.getTime() + wait) };
}

export interface Decision {
  readonly verdict: Verdict;
  readonly action: Action;
}

export function decide(snapshot: Snapshot, memory: Memory, now: Date): Decision {
  const verdict = detect(snapshot.detector);
  return { verdict, action: act(snapshot, memory, now, verdict) };
}

function act(s: Snapshot, memory: Memory, now: Date, verdict: Verdict): Action {
  const master = s.detector.master.name;
  if (s.journal) return journaled(s, s.journal, verdict);
  if (verdict.state === 'master-read-only') {
    if (s.restartRecovery !== 'auto') return { kind: 'wait', sentence: verdict.sentence };
    if (s.paused && s.paused.until > now) {
      return { kind: 'blocked', sentence: `${s.cluster}: ${master} is read_only; automatic failover is paused until ${s.paused.until.toISOString()}, so it is not made writable automatically (resume, or set-writable)` };
    }
    return { kind: 'make-writable', sentence: `${s.cluster}: restart_recovery: ${master} answers read_only` };
  }
  if (verdict.state !== 'master-dead') return { kind: 'wait', sentence: verdict.sentence };
  const allowed = gate({
    cluster: s.cluster,
    master,
    auto: s.auto,
    blockedUntil: s.blockedUntil,
    paused: s.paused,
    retryAfter: memory.retryAfter,
    now,
  });
  if (!allowed.go) return { kind: 'blocked', sentence: allowed.sentence };
  const planned = planFailover(s, memory, undefined);
  if (planned.kind === 'impossible') {
    return { kind: 'impossible', sentence: `${s.cluster}: ${master} is dead and cannot be replaced: ${planned.sentence}` };
  }
  return { kind: 'promote', plan: planned, sentence: verdict.sentence };
}

/** The planner on this snapshot's survivors; `to` for a manual failover's chosen target. */
export function planFailover(s: Snapshot, memory: Memory, to: string | undefined): Plan {
  const survivors = s.observed.filter((o) => s.survivors.includes(o.name));
  const flavor = survivors.find((o) => o.flavor)?.flavor ?? 'mariadb';
  const oldMaster = s.detector.master.name;
  return plan({ oldMaster, flavor, servers: s.servers, survivors, to, avoid: memory.failedTargets });
}

/**
 * A failover journaled by a controller that died: resumed only once its old master is confirmed
 * dead again (or at once when its target was already promoted: there is no way back then), and
 * cancelled when the old master answers before anything was promoted.
 */
function journaled(s: Snapshot, journal: RunningFailover, verdict: Verdict): Action {
  const old = journal.record.old_master;
  const what = `failover ${journal.record.id} (${old} → ${journal.target})`;
  const target = s.observed.find((o) => o.name === journal.target);
  if (journal.record.version !== null || (target?.reachable === true && target.replica === null)) {
    return { kind: 'resume', journal, sentence: `${s.cluster}: resuming the ${what}: ${journal.target} was already promoted` };
  }
  const pings = s.detector.pings;
  if (pings.consecutiveFailures === 0) {
    return { kind: 'cancel', journal, sentence: `${old} answered again before ${journal.target} was promoted: failover cancelled, ${old} stays the master` };
  }
  // The failover may have stopped the replicas' IO threads before it died: they cannot witness
  // any more. Dead again means: our pings fail, no replica is connected to it, no app server reaches it.
  const oldAddress = s.servers.find((x) => x.name === old)?.address;
  const connected = s.observed.some((o) => o.replica?.io === 'yes' && o.replica.masterHost === oldAddress);
  const confirmed = pings.consecutiveFailures >= s.detector.failuresNeeded && !connected
    && (verdict.state === 'master-dead' || verdict.state === 'master-unreachable');
  if (!confirmed) return { kind: 'wait', sentence: `${s.cluster}: the unfinished ${what} waits: ${verdict.sentence}` };
  return { kind: 'resume', journal, sentence: `${s.cluster}: resuming the ${what} that a previous controller left unfinished: ${old} is confirmed dead again` };
}
