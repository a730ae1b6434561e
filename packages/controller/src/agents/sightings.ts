import type { AgentSighting } from '../failover/detector.js';
import { AGENT_LIVE_MS, type AgentRegistry } from './registry.js';

// What the app servers say of a cluster's master, for the detector. Unbound agents (a bare-token
// line: anyone with that token) neither testify nor are awaited: one leaked token could otherwise
// veto every failover, or pad the count of those that answered.

/** Live bound agents that check `cluster`'s master: their answers are awaited before a verdict of death. */
export function liveAgentsOf(registry: AgentRegistry, cluster: string, now: Date): number {
  const since = now.getTime() - AGENT_LIVE_MS;
  let live = 0;
  for (const r of registry.records()) {
    if (r.bound && r.received_at.getTime() >= since && r.report.masters.some((m) => m.cluster === cluster)) live++;
  }
  return live;
}

/**
 * Each bound agent's last greeting check of the master at `address`, dated by when the controller
 * received it. In the registry's order, unsorted: this runs every monitor round over the whole fleet.
 */
export function sightingsOf(registry: AgentRegistry, cluster: string, address: string): AgentSighting[] {
  const out: AgentSighting[] = [];
  for (const record of registry.records()) {
    const seen = record.bound && record.report.masters.find((m) => m.cluster === cluster && m.address === address);
    if (!seen) continue;
    const { reachable, detail } = seen;
    out.push({ agent: record.name, reachable, checkedAt: record.masters_received_at, detail });
  }
  return out;
}
