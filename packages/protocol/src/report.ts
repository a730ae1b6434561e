import { z } from 'zod';
import { BlockHash } from './mapping.js';
import { Address, Name } from './names.js';

export const MasterReachability = z.strictObject({
  cluster: Name,
  address: Address,
  port: z.number().int().min(1).max(65535),
  /** True only when the MySQL server's greeting packet was read: a bare TCP accept proves the kernel, not mysqld. */
  reachable: z.boolean(),
  /** Why not, or what answered ("greeting from 10.11.6-MariaDB", "connect ECONNREFUSED"). */
  detail: z.string().max(200),
  checked_at: z.iso.datetime({ offset: true }),
});
export type MasterReachability = z.infer<typeof MasterReachability>;

/** POST /v1/agents/:name/report */
export const AgentReport = z.strictObject({
  /** 0 until the agent has applied a mapping. */
  applied_version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  block_hash: BlockHash,
  hosts_file: z.string().max(4096),
  masters: z.array(MasterReachability).max(256),
  /** A hosts-file problem the agent cannot fix by itself (unwritable file, full disk). */
  error: z.string().max(1000).optional(),
  agent_version: z.string().max(64),
});
export type AgentReport = z.infer<typeof AgentReport>;

export const AgentParams = z.strictObject({ name: Name });

/** Reports are small; anything larger is refused before it is parsed. */
export const MAX_REPORT_BYTES = 64 * 1024;
