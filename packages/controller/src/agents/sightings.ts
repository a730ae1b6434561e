import type { AgentSighting } from '../failover/detector.js';
import { AGENT_LIVE_MS, type AgentRegistry } from './registry.js';

// What the app servers say of a cluster's master, for the detector. Unbound agents (a bare-token
// line: anyone with that token) neither testify nor are awaited: one leaked token could otherwise
// veto every failover, or pad the count of those that answered.

export interface ClusterSightings {
  /** Each bound agent's last greeting check of the master, dated by when the controller received it. */
  readonly agents: readonly AgentSighting[];
  /** Live bound agents that check the cluster's master: their answers are awaited before a verdict of death. */
  readonly expected: number;
}

/**
 * One cluster's sightings, asked every monitor round (every 100 ms while the master does not
 * answer) over the whole fleet, which on etcd is every controller's agents: one pass over the
 * registry when what agents say of their masters changed, else the last answer, as long as none of
 * the agents counted live has aged out since.
 */
export class SightingsOf {
  readonly #registry: AgentRegistry;
  readonly #cluster: string;
  #last: (ClusterSightings & { changes: number; address: string; from: number; until: number }) | undefined;

  constructor(registry: AgentRegistry, cluster: string) {
    this.#registry = registry;
    this.#cluster = cluster;
  }

  /** What the agents say of the master at `address`, at `now`. */
  master(address: string, now: Date): ClusterSightings {
    const nowMs = now.getTime();
    const last = this.#last;
    const changes = this.#registry.sightingChanges;
    if (last?.changes === changes && last.address === address && nowMs >= last.from && nowMs <= last.until) return last;
    const since = nowMs - AGENT_LIVE_MS;
    const agents: AgentSighting[] = [];
    let expected = 0;
    let oldest = Infinity;
    for (const record of this.#registry.records()) {
      if (!record.bound) continue;
      const { masters } = record.report;
      let checks = false;
      for (const m of masters) {
        if (m.cluster !== this.#cluster) continue;
        checks = true;
        if (m.address !== address) continue;
        const { reachable, detail } = m;
        agents.push({ agent: record.name, reachable, checkedAt: record.masters_received_at, detail });
        break;
      }
      const received = record.received_at.getTime();
      if (!checks || received < since) continue;
      expected++;
      oldest = Math.min(oldest, received);
    }
    this.#last = { agents, expected, changes, address, from: nowMs, until: oldest + AGENT_LIVE_MS };
    return this.#last;
  }
}
