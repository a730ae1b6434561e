import { z } from 'zod';
import { Name } from './names.js';

/**
 * The steps of a failover, in the order they run. A record lists the ones that ran; each carries
 * when it ended and how long it took, so "where did the seconds go?" has an answer.
 */
export const FailoverStepName = z.enum([
  'detected',
  'confirmed',
  'fenced',
  'caught-up',
  'promoted',
  'repointed',
  'published',
  'agents-applied',
]);
export type FailoverStepName = z.infer<typeof FailoverStepName>;

export const FailoverStep = z.strictObject({
  name: FailoverStepName,
  /** When the step ended. */
  at: z.iso.datetime({ offset: true }),
  /** How long the step took, in milliseconds. */
  ms: z.number().min(0),
  detail: z.string().max(2000),
  /** The step ran but did not do all it should (a replica not repointed): the failover went on, a human must look. */
  failed: z.boolean().optional(),
});
export type FailoverStep = z.infer<typeof FailoverStep>;

export const FailoverRecord = z.strictObject({
  id: z.string().max(64),
  cluster: Name,
  trigger: z.enum(['auto', 'manual']),
  old_master: Name,
  new_master: Name.nullable(),
  /** The first failed ping of the old master. */
  started_at: z.iso.datetime({ offset: true }),
  finished_at: z.iso.datetime({ offset: true }).nullable(),
  /** cancelled: a resumed failover whose old master answered again before anything was promoted. */
  outcome: z.enum(['running', 'done', 'failed', 'cancelled']),
  /** The mapping version that moved the hostnames, once published. */
  version: z.number().int().min(1).nullable(),
  /** Why it started (the detector's sentence), and for a failed one, why it stopped. */
  reason: z.string().max(2000),
  error: z.string().max(2000).optional(),
  steps: z.array(FailoverStep),
});
export type FailoverRecord = z.infer<typeof FailoverRecord>;

/** GET /v1/history */
export const HistoryResponse = z.strictObject({ failovers: z.array(FailoverRecord) });
export type HistoryResponse = z.infer<typeof HistoryResponse>;

/** POST /v1/clusters/:cluster/failover: force one on a dead master, optionally onto a named replica. */
export const FailoverRequest = z.strictObject({
  to: Name.optional(),
  reason: z.string().max(500).optional(),
  /**
   * Go on although the fence of the old master failed (fence_command, MHA --command=stop): the
   * operator vouches that it is down. Never overrides "the master answers".
   */
  force: z.boolean().optional(),
});
export type FailoverRequest = z.infer<typeof FailoverRequest>;

/** POST /v1/clusters/:cluster/ack: lift the block that follows a failover. */
export const AckResponse = z.strictObject({
  cluster: Name,
  /** When the block would have ended by itself, or null when there was none. */
  was_blocked_until: z.iso.datetime({ offset: true }).nullable(),
});
export type AckResponse = z.infer<typeof AckResponse>;

/** The longest pause: a maintenance window, not a way to switch failover off (that is failover.auto). */
export const MAX_PAUSE_SECONDS = 7 * 24 * 3600;

/**
 * POST /v1/clusters/:cluster/pause: no automatic failover of the cluster for `for_s` seconds (a
 * planned mysqld restart or upgrade of the master). Detection goes on; a manual failover still works.
 */
export const PauseRequest = z.strictObject({
  for_s: z.number().int().min(1).max(MAX_PAUSE_SECONDS),
  reason: z.string().max(500).optional(),
});
export type PauseRequest = z.infer<typeof PauseRequest>;

export const PauseResponse = z.strictObject({
  cluster: Name,
  paused_until: z.iso.datetime({ offset: true }),
});
export type PauseResponse = z.infer<typeof PauseResponse>;

/** POST /v1/clusters/:cluster/resume: automatic failover armed again (the post-failover block aside). */
export const ResumeResponse = z.strictObject({
  cluster: Name,
  /** When the pause would have ended, or null when the cluster was not paused. */
  was_paused_until: z.iso.datetime({ offset: true }).nullable(),
});
export type ResumeResponse = z.infer<typeof ResumeResponse>;
