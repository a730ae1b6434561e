import type { AgentRegistry } from './registry.js';

/**
 * Waits (up to `timeoutMs`) until every live agent has applied `version`; resolves with a sentence
 * naming who did, how long after the call, and who did not: "have all app servers switched?".
 */
export async function awaitAgents(
  registry: AgentRegistry,
  version: number,
  timeoutMs: number,
  now: Date,
): Promise<string> {
  const started = performance.now();
  const live = registry.live(now);
  const applied = new Map<string, number>();
  while (performance.now() < started + timeoutMs) {
    for (const a of live) {
      if (!applied.has(a.name) && (registry.get(a.name)?.report.applied_version ?? 0) >= version) {
        applied.set(a.name, Math.round(performance.now() - started));
      }
    }
    if (applied.size === live.length) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const late = live.filter((a) => !applied.has(a.name)).map((a) => a.name);
  const list = [...applied].map(([name, ms]) => `${name} +${ms} ms`).join(', ');
  return `${applied.size} of ${live.length} live agent(s) applied version ${version}${list ? ` (${list})` : ''}${late.length > 0 ? `; not yet: ${late.join(', ')}` : ''}`;
}
