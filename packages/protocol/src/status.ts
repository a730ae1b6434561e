import { z } from 'zod';
import { Address, Hostname, Name } from './names.js';
import { MasterReachability } from './report.js';
import { LeaderResponse } from './admin.js';

export const ServerStatus = z.strictObject({
  name: Name,
  address: Address,
  role: z.enum(['master', 'replica']),
  candidate: z.boolean(),
  no_master: z.boolean(),
  /** A former master kept read-only until it rejoins: whenever it answers, it is fenced again. */
  fenced: z.boolean(),
  /** What the controller last saw of it; null before the first look (or with monitoring off). */
  observed: z
    .strictObject({
      reachable: z.boolean(),
      read_only: z.boolean().nullable(),
      /** The master it replicates from, by address, or null for none. */
      replicating_from: z.string().nullable(),
      io_running: z.enum(['yes', 'connecting', 'no']).nullable(),
      sql_running: z.boolean().nullable(),
      lag_s: z.number().nullable(),
      gtid: z.string().nullable(),
      error: z.string().optional(),
      at: z.iso.datetime({ offset: true }),
    })
    .nullable(),
});

export const ClusterStatus = z.strictObject({
  name: Name,
  master: Name,
  hostnames: z.array(Hostname),
  servers: z.array(ServerStatus),
  /** The detector's verdict on the master, as a name and a sentence. */
  health: z
    .strictObject({ state: z.string(), sentence: z.string(), since: z.iso.datetime({ offset: true }) })
    .nullable(),
  failover: z.strictObject({
    auto: z.boolean(),
    /** Automatic failover is blocked until then (anti-flapping), or until an admin acks. */
    blocked_until: z.iso.datetime({ offset: true }).nullable(),
    /** An operator paused automatic failover until then (maintenance), with why. */
    paused_until: z.iso.datetime({ offset: true }).nullable(),
    pause_reason: z.string().nullable(),
    running: z.boolean(),
    /** The steps of the cluster's last failover that did not do all they should (a replica not repointed): a human must look. */
    failed_steps: z.array(z.string()).optional(),
  }),
});

export const AgentStatus = z.strictObject({
  name: Name,
  applied_version: z.number().int().min(0),
  /** applied_version equals the controller's current version. */
  current: z.boolean(),
  block_hash: z.string(),
  hosts_file: z.string(),
  last_report_at: z.iso.datetime({ offset: true }),
  /** Seconds since the last report: a silent agent is a stale answer to "has everyone switched?". */
  last_report_age_s: z.number().min(0),
  masters: z.array(MasterReachability),
  error: z.string().optional(),
  remote_address: z.string(),
  /**
   * It reported with its own token (a NAME TOKEN line). An unbound one used a bare-token line:
   * anyone holding that token could be speaking, so its reachability never vetoes a failover.
   */
  bound: z.boolean(),
});
export type AgentStatus = z.infer<typeof AgentStatus>;

/** GET /v1/status */
export const Status = z.strictObject({
  version: z.number().int().min(1),
  issued_at: z.iso.datetime({ offset: true }),
  clusters: z.array(ClusterStatus),
  agents: z.array(AgentStatus),
  agents_current: z.number().int().min(0),
  agents_total: z.number().int().min(0),
  /** Who acts: this controller alone, or the controllers on etcd with their roles (GET /v1/leader's answer). */
  controllers: LeaderResponse.optional(),
});
export type Status = z.infer<typeof Status>;
