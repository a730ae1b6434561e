import { count, NAMES_LISTED, someNames } from '../events/rollout.js';
import type { AgentRegistry } from './registry.js';

/**
 * Waits (up to `timeoutMs`) until every live agent has applied `version`; resolves with a sentence
 * naming who did, how long after the call, and who did not: "have all app servers switched?".
 * A fleet is named only up to a few agents: the sentence goes into the failover's record.
 */
export async function awaitAgents(
  registry: AgentRegistry,
  version: number,
  timeoutMs: number,
  now: Date,
): Promise<string> {
  const started = performance.now();
  const live = registry.live(now);
  let pending = live.map((a) => a.name).sort();
  const applied: [string, number][] = [];
  while (performance.now() < started + timeoutMs) {
    const ms = Math.round(performance.now() - started);
    // Only those still behind are looked at again: 10,000 agents every 10 ms would be work.
    pending = pending.filter((name) => {
      if ((registry.get(name)?.report.applied_version ?? 0) < version) return true;
      applied.push([name, ms]);
      return false;
    });
    if (pending.length === 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const who =
    applied.length === 0
      ? ''
      : applied.length <= NAMES_LISTED
        ? ` (${applied.map(([name, ms]) => `${name} +${ms} ms`).join(', ')})`
        : ` (the last +${applied.at(-1)?.[1]} ms)`;
  const late = pending.length > 0 ? `; not yet: ${someNames(pending)}` : '';
  return `${count(applied.length)} of ${count(live.length)} live agent(s) applied version ${version}${who}${late}`;
}
