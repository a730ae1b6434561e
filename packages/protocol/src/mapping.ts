import { z } from 'zod';
import { Address, Hostname, Name } from './names.js';

export const MappingEntry = z.strictObject({ hostname: Hostname, address: Address });
export type MappingEntry = z.infer<typeof MappingEntry>;

export const ClusterMapping = z.strictObject({
  name: Name,
  /** The server the hostnames point at. */
  master: Name,
  /** MySQL port, the same on every server: agents probe address:port for a greeting. */
  port: z.number().int().min(1).max(65535),
  entries: z.array(MappingEntry).min(1).max(64),
});
export type ClusterMapping = z.infer<typeof ClusterMapping>;

/** What GET /v1/mapping returns. `version` rises by one with every change and never goes back. */
export const Mapping = z
  .strictObject({
    version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    /**
     * The term of the leader that committed this version (several controllers on etcd); 0 with one
     * controller. Versions are committed once, in order, whoever leads: an agent never goes back to a
     * lower version, whichever controller serves it.
     */
    term: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    issued_at: z.iso.datetime({ offset: true }),
    clusters: z.array(ClusterMapping).max(256),
  })
  .superRefine((mapping, ctx) => {
    const seen = new Set<string>();
    for (const [ci, cluster] of mapping.clusters.entries()) {
      for (const [ei, entry] of cluster.entries.entries()) {
        if (seen.has(entry.hostname)) {
          ctx.addIssue({
            code: 'custom',
            path: ['clusters', ci, 'entries', ei, 'hostname'],
            message: `hostname ${entry.hostname} is mapped twice`,
          });
        }
        seen.add(entry.hostname);
      }
    }
  });
export type Mapping = z.infer<typeof Mapping>;

/** Long-poll holds are capped well below the agent's HTTP timeouts (undici defaults: 300 s). */
export const MAX_WAIT_SECONDS = 120;
export const DEFAULT_WAIT_SECONDS = 30;

/** sha256 hex of the managed block's bytes as they are in the hosts file. */
export const BlockHash = z.string().regex(/^[0-9a-f]{64}$/, 'not a sha256 hex digest');

/**
 * The long-poll's query. An agent names itself and the block its file holds: the poll is also its
 * acknowledgement ("I have applied `after`, wake me for anything newer"), so a publish is confirmed
 * by the very request that parks again, with no separate report in the fan-out burst.
 */
export const MappingQuery = z.strictObject({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  wait: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).default(DEFAULT_WAIT_SECONDS),
  /** With `block`: who acknowledges `after`. Without both, the poll acknowledges nothing. */
  agent: Name.optional(),
  block: BlockHash.optional(),
});
export type MappingQuery = z.infer<typeof MappingQuery>;

/** Responses larger than this are hostile or broken; the agent stops reading there. */
export const MAX_MAPPING_BYTES = 1024 * 1024;

/** Every hostname → address pair of a mapping, in publication order. */
export function mappingEntries(mapping: Pick<Mapping, 'clusters'>): MappingEntry[] {
  return mapping.clusters.flatMap((cluster) => cluster.entries);
}
