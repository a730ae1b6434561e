import type { FailureKind } from '../mysql/session.js';
import type { ServerObservation } from '../topology/observation.js';

// Is the master dead? A pure function of what the controller, the replicas and the app servers
// see. Dead only when all three agree: a master the controller cannot reach but somebody else
// can is a network problem between us and it, and promoting a replica then would make two masters.

export type MasterState =
  | 'master-alive'
  /** It answers but is read_only (restarted with read_only=ON in its my.cnf, or fenced by hand): nobody takes writes. */
  | 'master-read-only'
  /** Pings failing, fewer than `failures` so far. */
  | 'master-suspect'
  /** The controller, every reachable replica and every app server that checked lost it. */
  | 'master-dead'
  /** The controller cannot reach it, but a replica still replicates from it. */
  | 'master-unreachable'
  /** The controller is the one cut off: app servers reach the master, or no server answers at all. */
  | 'controller-isolated';

export const MASTER_STATES: Record<MasterState, string> = {
  'master-alive': 'the master answers the controller',
  'master-read-only': 'the master answers but is read_only: no server takes writes',
  'master-suspect': 'the master stopped answering the controller; confirming',
  'master-dead': 'the master is dead: the controller, the replicas and the app servers all lost it',
  'master-unreachable': 'the controller cannot reach the master but its replicas still can; no failover',
  'controller-isolated': 'the controller is cut off (app servers still reach the master, or no server answers it); no failover',
};

export interface PingRecord {
  readonly consecutiveFailures: number;
  readonly lastFailure?: { readonly kind: FailureKind; readonly message: string };
  /** When the first of the consecutive failures happened. */
  readonly failingSince?: Date;
}

/** A bound agent's greeting check of the master, as last reported (unbound agents never testify). */
export interface AgentSighting {
  readonly agent: string;
  readonly reachable: boolean;
  readonly checkedAt: Date;
  readonly detail: string;
}

export interface DetectorInput {
  readonly master: { readonly name: string; readonly address: string; readonly port: number };
  readonly pings: PingRecord;
  /** Whether the master's last observation found it read_only (undefined: not observed). */
  readonly masterReadOnly: boolean | undefined;
  readonly cluster: string;
  /** Every server but the master, as last observed. */
  readonly replicas: readonly ServerObservation[];
  /**
   * Replicas whose IO thread says Yes but that heard nothing from the master (no event, no
   * heartbeat) for longer than their heartbeat period allows, with how long (ms): topology/silence.ts.
   */
  readonly silentReceivers: ReadonlyMap<string, number>;
  readonly agents: readonly AgentSighting[];
  /** Live agents that check this cluster's master: their answers are awaited before a verdict of death. */
  readonly agentsExpected: number;
  /** failover.agent_veto_share: agents reaching the master veto when they are more than this share of those that answered. */
  readonly agentVetoShare: number;
  /** Since the first failed ping. */
  readonly elapsedMs: number;
  /** How long to wait for the agents' answers before deciding without the missing ones. */
  readonly agentGraceMs: number;
  readonly failuresNeeded: number;
}

export interface Verdict {
  readonly state: MasterState;
  /** One sentence for the log and the status, naming the servers. */
  readonly sentence: string;
}

/** At most NAMED names, then how many more: a sentence about 10,000 app servers stays one line. */
const NAMED = 5;

/**
 * The first NAMED names in alphabetical order, found in one pass (the list may be the whole fleet,
 * in no order): the same agents give the same sentence, which is said once, not every round.
 */
function names(list: readonly { name?: string; agent?: string }[]): string {
  const first: string[] = [];
  for (const x of list) {
    const name = x.name ?? x.agent ?? '';
    if (first.length === NAMED && name >= first[NAMED - 1]!) continue;
    const at = first.findIndex((n) => n > name);
    first.splice(at === -1 ? first.length : at, 0, name);
    if (first.length > NAMED) first.pop();
  }
  return list.length > NAMED ? `${first.join(', ')} and ${list.length - NAMED} more` : first.join(', ');
}

export function detect(input: DetectorInput): Verdict {
  const { master, pings } = input;
  if (pings.consecutiveFailures === 0) {
    if (input.masterReadOnly) {
      return {
        state: 'master-read-only',
        sentence: `${master.name} answers but is read_only: no server takes writes (restarted with read_only=ON?); pullover-controller set-writable --cluster ${input.cluster} makes it writable once every replica is checked`,
      };
    }
    return { state: 'master-alive', sentence: `${master.name} answers` };
  }
  const why = pings.lastFailure ? `${describeFailure(pings.lastFailure.kind)}: ${pings.lastFailure.message}` : 'no answer';
  if (pings.consecutiveFailures < input.failuresNeeded) {
    return {
      state: 'master-suspect',
      sentence: `${master.name} failed ${pings.consecutiveFailures} of ${input.failuresNeeded} pings (${why})`,
    };
  }

  // Sightings older than the first failure only say it was alive before: not evidence either way.
  const since = pings.failingSince?.getTime() ?? 0;
  const fresh = input.agents.filter((a) => a.checkedAt.getTime() >= since);
  const agentsReaching = fresh.filter((a) => a.reachable);
  const waiting = fresh.length < input.agentsExpected && input.elapsedMs < input.agentGraceMs;
  if (vetoes(agentsReaching.length, fresh.length, input.agentsExpected, waiting, input.agentVetoShare)) {
    return {
      state: 'controller-isolated',
      sentence: `the controller cannot reach ${master.name} (${why}), but ${agentsReaching.length} of ${fresh.length} app server(s) that answered still do (${names(agentsReaching)}): the controller is cut off, no failover`,
    };
  }

  const reachable = input.replicas.filter((r) => r.reachable);
  const refusedLogin = input.replicas.filter((r) => r.failure?.kind === 'rejected');
  if (refusedLogin.length > 0 && reachable.length === 0) {
    return {
      state: 'controller-isolated',
      sentence: `the controller cannot reach ${master.name} (${why}) and cannot log in to ${names(refusedLogin)} (${refusedLogin[0]?.failure?.message}): fix mysql.user and mysql.password_file; no failover without the replicas' view`,
    };
  }
  if (input.replicas.length > 0 && reachable.length === 0) {
    return {
      state: 'controller-isolated',
      sentence: `the controller reaches neither ${master.name} (${why}) nor any replica (${names(input.replicas)}): it is cut off, no failover`,
    };
  }

  const stillConnected = reachable.filter(
    (r) => r.replica && r.replica.io === 'yes' && r.replica.masterHost === master.address && !input.silentReceivers.has(r.name),
  );
  if (stillConnected.length > 0) {
    return {
      state: 'master-unreachable',
      sentence: `the controller cannot reach ${master.name} (${why}), but ${names(stillConnected)} still replicate(s) from it: no failover`,
    };
  }

  // A replica whose replication was stopped by hand, or that replicates from elsewhere, saw nothing:
  // only one still trying to reach the master and failing at the network level vouches for its death.
  const witnesses = reachable.filter((r) => lostMaster(r, master, input.silentReceivers));
  if (reachable.length > 0 && witnesses.length === 0) {
    return {
      state: 'master-unreachable',
      sentence: `the controller cannot reach ${master.name} (${why}), and no replica is replicating from it to confirm (${reachable.map((r) => `${r.name} ${replicaView(r, master.address)}`).join(', ')}): no automatic failover; if it is dead, run pullover-controller failover`,
    };
  }

  if (waiting) {
    return {
      state: 'master-suspect',
      sentence: `${master.name} failed ${pings.consecutiveFailures} pings (${why}) and its replicas lost it; waiting for the app servers' view (${fresh.length} of ${input.agentsExpected} answered)`,
    };
  }

  const lost = witnesses.map((r) => `${r.name} lost it too${howLost(r, input.silentReceivers)}`);
  const blind = fresh.length - agentsReaching.length;
  const missing = fresh.length < input.agentsExpected ? ` (${input.agentsExpected - fresh.length} did not answer in ${input.agentGraceMs} ms)` : '';
  const outvoted = agentsReaching.length > 0
    ? `; ${agentsReaching.length} still reach(es) it (${names(agentsReaching)}), too few to veto: more than ${Math.round(input.agentVetoShare * 100)} % of those that answered must`
    : '';
  const agentPart =
    fresh.length > 0
      ? `; ${blind} app server(s) cannot reach it either${missing}${outvoted}`
      : input.agentsExpected > 0
        ? `; no app server answered in ${input.agentGraceMs} ms`
        : '';
  return {
    state: 'master-dead',
    sentence: `${master.name} is dead: ${pings.consecutiveFailures} pings failed (${why})${lost.length > 0 ? `; ${lost.join(', ')}` : ''}${agentPart}`,
  };
}

/**
 * How many app servers that reach the master veto a failover when `answered` answered: more than
 * `share` of them, but one alone when one or two answered. Two disagreeing app servers cannot
 * outvote each other, and a failover wrongly made (two masters) costs more than one delayed.
 */
export function vetoNeeds(answered: number, share: number): number {
  return answered <= 2 ? 1 : Math.floor(share * answered) + 1;
}

/**
 * While answers are still awaited, a veto stands only when the agents reaching the master would
 * be enough however the silent ones answer: otherwise the first answer in would decide alone.
 */
function vetoes(reaching: number, answered: number, expected: number, waiting: boolean, share: number): boolean {
  if (reaching === 0 || reaching < vetoNeeds(answered, share)) return false;
  return !waiting || reaching >= vetoNeeds(Math.max(answered, expected), share);
}

// Client errors of a replication IO thread that mean "no answer from the master's host": cannot
// connect, lost the connection, server gone, network read/write failures and timeouts.
const NETWORK_ERRORS = new Set([2003, 2006, 2013, 1158, 1159, 1160, 1161]);

/**
 * The replica replicates from the master and its IO thread cannot reach it, or is connected and
 * hears nothing (not: was told to stop, or was refused a login).
 */
function lostMaster(r: ServerObservation, master: DetectorInput['master'], silent: ReadonlyMap<string, number>): boolean {
  const replica = r.replica;
  if (!replica || replica.masterHost !== master.address || replica.masterPort !== master.port) return false;
  if (replica.lastIoErrno !== 0) return NETWORK_ERRORS.has(replica.lastIoErrno);
  return replica.io === 'connecting' || (replica.io === 'yes' && silent.has(r.name));
}

function howLost(r: ServerObservation, silent: ReadonlyMap<string, number>): string {
  const quietMs = silent.get(r.name);
  if (r.replica?.io === 'yes' && quietMs !== undefined) {
    return ` (connected, but nothing from it for ${(quietMs / 1000).toFixed(1)} s, heartbeat every ${(r.replica.heartbeats?.periodMs ?? 0) / 1000} s)`;
  }
  return r.replica?.lastIoErrno ? ` (IO error ${r.replica.lastIoErrno})` : '';
}

function describeFailure(kind: FailureKind): string {
  switch (kind) {
    case 'refused':
      return 'connection refused';
    case 'timeout':
      return 'timed out';
    case 'rejected':
      return 'refused our login';
    case 'error':
      return 'error';
  }
}

function replicaView(r: ServerObservation, masterAddress: string): string {
  if (!r.replica) return 'replicates from nobody';
  if (r.replica.masterHost !== masterAddress) return `replicates from ${r.replica.masterHost}`;
  if (r.replica.io === 'no' && r.replica.lastIoErrno === 0) return 'has replication stopped';
  return `IO ${r.replica.io}${r.replica.lastIoErrno ? `, error ${r.replica.lastIoErrno}: ${r.replica.lastIoError}` : ''}`;
}
