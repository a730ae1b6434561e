import { Address, FailoverRecord, Hostname, Name, SwitchoverResponse, SwitchoverStep } from '@pullover/protocol';
import { z } from 'zod';

/** Bump when the layout changes incompatibly: an older controller then refuses the file instead of misreading it. */
export const STATE_FORMAT = 2;

/** The newest history entries kept in the state file; older ones are dropped (the file is rewritten on every change). */
export const HISTORY_LIMIT = 1000;

/**
 * What a cluster's hostnames map to at the current version. The published mapping is derived
 * from this alone, so one version always means one content: any change here bumps the version.
 */
export const PublishedCluster = z.strictObject({
  master: Name,
  address: Address,
  port: z.number().int().min(1).max(65535),
  hostnames: z.array(Hostname).min(1),
});
export type PublishedCluster = z.infer<typeof PublishedCluster>;

export const HistoryEntry = z.strictObject({
  version: z.number().int().min(1),
  at: z.iso.datetime({ offset: true }),
  cluster: Name,
  event: z.enum(['initial', 'cluster-added', 'cluster-removed', 'config-changed', 'set-master', 'failover', 'switchover']),
  previous_master: Name.nullable(),
  master: Name.nullable(),
  /** The sentence that was logged when it happened. */
  detail: z.string(),
  reason: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** The newest failover records kept. */
export const FAILOVER_LIMIT = 200;

/** Failovers filed per outcome: what the running one ended as. */
export const FailoverCounts = z.strictObject({
  done: z.number().int().min(0),
  failed: z.number().int().min(0),
  cancelled: z.number().int().min(0),
});
export type FailoverCounts = z.infer<typeof FailoverCounts>;

/**
 * A failover under way, saved before its first action: a controller killed at any step resumes it
 * on restart (every step is safe to repeat) instead of leaving the cluster without a writable master.
 */
export const RunningFailover = z.strictObject({
  record: FailoverRecord,
  target: Name,
  donor: Name.nullable(),
  /** failover --force: go on although the fence command failed (the operator vouches the old master is down). */
  force: z.boolean().default(false),
});
export type RunningFailover = z.infer<typeof RunningFailover>;

/**
 * How far a switchover got, in order. Before `published` a restarted controller rolls it back,
 * from `published` on it finishes it: the hostnames already name the target. `promoting` is
 * saved before the promotion runs, so a target found writable can only be one we promoted.
 */
export const SwitchoverReached = z.enum(['started', 'write-blocked', 'promoting', 'published']);
export type SwitchoverReached = z.infer<typeof SwitchoverReached>;

/** A switchover under way, saved before its first action and at every step that changes what undoing it means. */
export const RunningSwitchover = z.strictObject({
  started_at: z.iso.datetime({ offset: true }),
  old_master: Name,
  target: Name,
  /** The servers to make replicas of the target once it is published, the old master first. */
  repoint: z.array(Name),
  checks: z.array(z.string()),
  reason: z.string().nullable(),
  reached: SwitchoverReached,
  /** The old master's executed GTID position once its writes were blocked: the target's goal, and all a rolled-back target may hold. */
  old_master_gtid: z.string().nullable(),
  /** When the old master's read_only was asked for: writes are blocked from then until published or rolled back. */
  write_blocked_at: z.iso.datetime({ offset: true }).nullable(),
  write_blocked_ms: z.number().min(0).nullable(),
  version: z.number().int().min(1).nullable(),
  steps: z.array(SwitchoverStep),
});
export type RunningSwitchover = z.infer<typeof RunningSwitchover>;

/** A finished switchover as answered (or, when its controller died, as the next one finished it). */
export const SwitchoverRecord = SwitchoverResponse.extend({
  started_at: z.iso.datetime({ offset: true }),
  finished_at: z.iso.datetime({ offset: true }),
});
export type SwitchoverRecord = z.infer<typeof SwitchoverRecord>;

/** The newest switchover records kept per cluster. */
export const SWITCHOVER_LIMIT = 50;

export const ClusterFailoverState = z.strictObject({
  /** Automatic failover stays off until then (anti-flapping), or until an admin acks. */
  blocked_until: z.iso.datetime({ offset: true }).nullable(),
  /** An operator's maintenance pause (pullover-controller pause); states written before it have none. */
  paused: z
    .strictObject({ until: z.iso.datetime({ offset: true }), reason: z.string().nullable() })
    .nullable()
    .default(null),
  /** Former masters kept read-only: the moment one answers again, it is fenced again. */
  fenced: z.array(Name),
  running: RunningFailover.nullable(),
  /** The switchover under way; states written before it have none. */
  switchover: RunningSwitchover.nullable().default(null),
  switchovers: z.array(SwitchoverRecord).default([]),
});
export type ClusterFailoverState = z.infer<typeof ClusterFailoverState>;

export const NO_FAILOVER: ClusterFailoverState = {
  blocked_until: null,
  paused: null,
  fenced: [],
  running: null,
  switchover: null,
  switchovers: [],
};

export const ControllerState = z.strictObject({
  format: z.literal(STATE_FORMAT),
  /** Never goes down, survives restarts: agents refuse a mapping older than the one they applied. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issued_at: z.iso.datetime({ offset: true }),
  /** The term of the etcd leader that committed `version`; absent with one controller and its state dir. */
  term: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  clusters: z.record(Name, PublishedCluster),
  history: z.array(HistoryEntry),
  failover: z.record(Name, ClusterFailoverState),
  failovers: z.array(FailoverRecord),
  /**
   * Per cluster, every failover filed since the state began: `failovers` keeps the newest
   * FAILOVER_LIMIT only, and the counter exported from this (pullover_failovers_total) must never go down.
   */
  failovers_filed: z.record(Name, FailoverCounts),
});
export type ControllerState = z.infer<typeof ControllerState>;

/** `counts` with `record` filed; a record still running counts nowhere. */
export function countFailover(
  counts: Readonly<Record<string, FailoverCounts>>,
  record: { readonly cluster: string; readonly outcome: string },
): Record<string, FailoverCounts> {
  const { outcome, cluster } = record;
  if (outcome !== 'done' && outcome !== 'failed' && outcome !== 'cancelled') return { ...counts };
  const before = counts[cluster] ?? { done: 0, failed: 0, cancelled: 0 };
  return { ...counts, [cluster]: { ...before, [outcome]: before[outcome] + 1 } };
}

/**
 * Reads the state files of earlier versions as the current layout. Format 1 (before failover
 * existed): nothing blocked, fenced or recorded. Before `failovers_filed`: counted from the records kept.
 */
export function migrateState(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  let value = json as Record<string, unknown>;
  if (value.format === 1) value = { ...value, format: STATE_FORMAT, failover: {}, failovers: [] };
  if (value.failovers_filed === undefined && Array.isArray(value.failovers)) {
    // Shapes are checked by the schema afterwards; here a malformed record only must not throw.
    const records = (value.failovers as unknown[]).filter(
      (r): r is { cluster: string; outcome: string } => typeof (r as { cluster?: unknown } | null)?.cluster === 'string',
    );
    value = { ...value, failovers_filed: records.reduce(countFailover, {}) };
  }
  return value;
}
