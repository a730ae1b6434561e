import { z } from 'zod';
import { Name } from './names.js';

/** POST /v1/clusters/:cluster/switchover: move a live master, nothing lost. */
export const SwitchoverRequest = z.strictObject({
  /** Default: a candidate first, then the most advanced eligible replica. */
  to: Name.optional(),
  /** Refuse when a replica is further behind than this, in seconds (default 5). */
  max_lag_s: z.number().min(0).max(86_400).optional(),
  /** How long the target may take to reach the old master's position before it is rolled back (default 5). */
  catchup_timeout_s: z.number().min(0.1).max(3600).optional(),
  /** Check and plan only; change nothing. */
  dry_run: z.boolean().optional(),
  reason: z.string().max(500).optional(),
});
export type SwitchoverRequest = z.infer<typeof SwitchoverRequest>;

export const SwitchoverStep = z.strictObject({
  /** `resumed`: it goes on from its journal rather than as planned (a restarted controller, or a target that took writes of its own). */
  name: z.enum(['checked', 'write-blocked', 'caught-up', 'promoted', 'published', 'repointed', 'agents-applied', 'rolled-back', 'resumed']),
  /** When the step ended (absent from switchovers journaled by older controllers). */
  at: z.iso.datetime({ offset: true }).optional(),
  ms: z.number().min(0),
  detail: z.string().max(2000),
  /** The step ran but did not do all it should (a server not repointed): a human must look. */
  failed: z.boolean().optional(),
});
export type SwitchoverStep = z.infer<typeof SwitchoverStep>;

export const SwitchoverResponse = z.strictObject({
  cluster: Name,
  old_master: Name,
  new_master: Name,
  outcome: z.enum(['planned', 'done', 'rolled-back']),
  /** Every pre-check, one sentence each. */
  checks: z.array(z.string().max(1000)),
  steps: z.array(SwitchoverStep),
  /** From the old master's read_only to the hostnames published with the new master writable. */
  write_blocked_ms: z.number().min(0).nullable(),
  version: z.number().int().min(1).nullable(),
  error: z.string().max(2000).optional(),
});
export type SwitchoverResponse = z.infer<typeof SwitchoverResponse>;

/** POST /v1/clusters/:cluster/rejoin: a former master or a stray server becomes a replica of the master. */
export const RejoinRequest = z.strictObject({ server: Name });
export type RejoinRequest = z.infer<typeof RejoinRequest>;

export const RejoinResponse = z.strictObject({
  cluster: Name,
  server: Name,
  master: Name,
  outcome: z.enum(['rejoined', 'refused']),
  /** Transactions the server has and the master lacks (empty when none). */
  errant: z.string().max(4000),
  detail: z.string().max(4000),
});
export type RejoinResponse = z.infer<typeof RejoinResponse>;

/**
 * POST /v1/clusters/:cluster/set-writable: a master that answers read_only (restarted with
 * read_only=ON in its my.cnf) takes writes again, once no other server could hold a write it lacks.
 */
export const SetWritableResponse = z.strictObject({
  cluster: Name,
  master: Name,
  outcome: z.enum(['writable', 'already-writable', 'refused']),
  /** What was checked, or why it was refused, one sentence each. */
  checks: z.array(z.string().max(2000)),
});
export type SetWritableResponse = z.infer<typeof SetWritableResponse>;

/**
 * POST /v1/clusters/:cluster/replica-heartbeat: every replica of the master receives a heartbeat
 * every monitor.replica_heartbeat (replicas pointed by hand keep MariaDB's default, 30 s), so a
 * hung master is confirmed by their silence within seconds.
 */
export const ReplicaHeartbeatResponse = z.strictObject({
  cluster: Name,
  master: Name,
  heartbeat_s: z.number().positive(),
  replicas: z.array(z.strictObject({
    name: Name,
    outcome: z.enum(['set', 'already', 'skipped', 'failed']),
    detail: z.string().max(2000),
  })),
});
export type ReplicaHeartbeatResponse = z.infer<typeof ReplicaHeartbeatResponse>;
