import { describe, expect, it } from 'vitest';
import { AGENT_LIVE_MS, AgentRegistry } from '../src/agents/registry.js';
import { SightingsOf } from '../src/agents/sightings.js';
import { reportReaching } from './helpers.js';

const T0 = Date.parse('2026-11-24T03:00:00.000Z');
const MASTER = '10.0.0.1';

/** An app server's report of myservice's master, or of another cluster's. */
function report(version: number, reachable = true, cluster = 'myservice') {
  const r = reportReaching(version, reachable, '2026-11-24T03:00:00.000Z', MASTER);
  return { ...r, masters: r.masters.map((m) => ({ ...m, cluster })) };
}

describe('the agents\' sightings of a master', () => {
  it('bound agents of the cluster testify and are awaited; unbound ones and other clusters do not', () => {
    const registry = new AgentRegistry();
    registry.record('app1', report(1), '10.1.0.1', new Date(T0), true);
    registry.record('app2', report(1, false), '10.1.0.2', new Date(T0), true);
    registry.record('app3', report(1), '10.1.0.3', new Date(T0), false);
    registry.record('app4', report(1, true, 'other'), '10.1.0.4', new Date(T0), true);
    const seen = new SightingsOf(registry, 'myservice').master(MASTER, new Date(T0));
    expect(seen.agents.map((a) => [a.agent, a.reachable])).toEqual([['app1', true], ['app2', false]]);
    expect(seen.expected).toBe(2);
    expect(new SightingsOf(registry, 'myservice').master('10.0.0.9', new Date(T0))).toMatchObject({ agents: [], expected: 2 });
  });

  it('kept through acknowledgements, recomputed on new probes, a new agent, or an agent aging out', () => {
    const registry = new AgentRegistry();
    const sightings = new SightingsOf(registry, 'myservice');
    registry.record('app1', report(1), '10.1.0.1', new Date(T0), true);
    registry.record('app2', report(1), '10.1.0.2', new Date(T0 + 1000), true);
    const first = sightings.master(MASTER, new Date(T0 + 1000));
    registry.acknowledge('app1', 2, 'b'.repeat(64), '10.1.0.1', new Date(T0 + 2000), true);
    expect(sightings.master(MASTER, new Date(T0 + 2000))).toBe(first);
    registry.record('app1', report(2, false), '10.1.0.1', new Date(T0 + 3000), true);
    const probed = sightings.master(MASTER, new Date(T0 + 3000));
    expect(probed.agents.find((a) => a.agent === 'app1')?.reachable).toBe(false);
    registry.record('app3', report(2), '10.1.0.3', new Date(T0 + 4000), true);
    expect(sightings.master(MASTER, new Date(T0 + 4000)).expected).toBe(3);
    // app2, heard last at T0 + 1000, is no longer live; the others still are.
    expect(sightings.master(MASTER, new Date(T0 + 1001 + AGENT_LIVE_MS)).expected).toBe(2);
    // Heard again after it had aged out: awaited again, though its probes are the same.
    registry.acknowledge('app2', 2, 'b'.repeat(64), '10.1.0.2', new Date(T0 + 2000 + AGENT_LIVE_MS), true);
    expect(sightings.master(MASTER, new Date(T0 + 2000 + AGENT_LIVE_MS)).expected).toBe(3);
  });
});
