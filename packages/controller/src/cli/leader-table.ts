import type { LeaderResponse } from '@pullover/protocol';
import { NO_LEADER } from './route.js';
import { table } from './status-table.js';

/** Who leads, with its term, then each controller with its role; a view from a controller cut off from etcd says so. */
export function formatLeader(r: LeaderResponse): string {
  if (r.mode === 'single') return `${r.self.name} acts alone: one controller with its state dir, no etcd`;
  const head = r.leader
    ? `leader ${r.leader.name} (term ${r.leader.term}) at ${r.leader.url}`
    : NO_LEADER;
  const rows = r.controllers.map((c) => [c.name, c.role, c.url, c.name === r.self.name ? 'answered this' : '']);
  const stale = r.self.etcd_reachable
    ? []
    : [`${r.self.name}, which answered, cannot reach etcd: this view may be out of date; ask another controller`];
  return [head, ...stale, table(['CONTROLLER', 'ROLE', 'URL', ''], rows)].join('\n');
}
