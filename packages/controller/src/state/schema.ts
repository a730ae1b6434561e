import { Address, Hostname, Name } from '@pullover/protocol';
import { z } from 'zod';

/** Bump when the layout changes incompatibly: an older controller then refuses the file instead of misreading it. */
export const STATE_FORMAT = 1;

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
  event: z.enum(['initial', 'cluster-added', 'cluster-removed', 'config-changed', 'set-master']),
  previous_master: Name.nullable(),
  master: Name.nullable(),
  /** The sentence that was logged when it happened. */
  detail: z.string(),
  reason: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const ControllerState = z.strictObject({
  format: z.literal(STATE_FORMAT),
  /** Never goes down, survives restarts: agents refuse a mapping older than the one they applied. */
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  issued_at: z.iso.datetime({ offset: true }),
  clusters: z.record(Name, PublishedCluster),
  history: z.array(HistoryEntry),
});
export type ControllerState = z.infer<typeof ControllerState>;
