// The controller state's changes, as pure functions of the state before: the keeper serializes,
// saves and publishes them. Each returns a new state; none reads a clock or a disk.
import type { FailoverRecord } from '@pullover/protocol';
import {
  type ClusterFailoverState,
  type ControllerState,
  countFailover,
  FAILOVER_LIMIT,
  HISTORY_LIMIT,
  type HistoryEntry,
  NO_FAILOVER,
  type PublishedCluster,
} from './schema.js';

export type FailoverChange = (f: ClusterFailoverState) => ClusterFailoverState;

export function failoverStateOf(state: ControllerState, cluster: string): ClusterFailoverState {
  return state.failover[cluster] ?? NO_FAILOVER;
}

export function withFailover(state: ControllerState, cluster: string, change: FailoverChange): ControllerState {
  return { ...state, failover: { ...state.failover, [cluster]: change(failoverStateOf(state, cluster)) } };
}

/** The cluster's hostnames moved to `published.master` at `entry.version`, with its history entry. */
export function movedMaster(
  state: ControllerState,
  published: PublishedCluster,
  entry: HistoryEntry,
  change: FailoverChange,
): ControllerState {
  return withFailover(
    {
      ...state,
      version: entry.version,
      issued_at: entry.at,
      clusters: { ...state.clusters, [entry.cluster]: published },
      history: [...state.history, entry].slice(-HISTORY_LIMIT),
    },
    entry.cluster,
    change,
  );
}

/** The finished failover filed: its record kept among the newest, and counted for good. */
export function filedFailover(
  state: ControllerState,
  cluster: string,
  record: FailoverRecord,
  blockedUntil: string | null,
): ControllerState {
  return {
    ...withFailover(state, cluster, (f) => ({ ...f, running: null, blocked_until: blockedUntil })),
    failovers: [...state.failovers, record].slice(-FAILOVER_LIMIT),
    failovers_filed: countFailover(state.failovers_filed, record),
  };
}

/** The master of each cluster taken off its fenced list: whoever the mapping names must be free to take writes. */
export function withoutFencedMasters(state: ControllerState): ControllerState {
  let failover = state.failover;
  for (const [name, f] of Object.entries(state.failover)) {
    const master = state.clusters[name]?.master;
    if (master !== undefined && f.fenced.includes(master)) {
      failover = { ...failover, [name]: { ...f, fenced: f.fenced.filter((n) => n !== master) } };
    }
  }
  return failover === state.failover ? state : { ...state, failover };
}
