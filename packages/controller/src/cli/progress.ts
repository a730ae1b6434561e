import type { ControllerEvent } from '@pullover/protocol';
import type { AdminClient } from './client.js';
import { HOLD_S } from './timeouts.js';

/** "03:14:07.123 WARN myservice: …": the controller's clock (UTC), as in its journal. */
export function formatEvent(event: ControllerEvent, withDate = false): string {
  const at = withDate ? event.at : event.at.slice(11, 23);
  return `${at} ${event.level === 'warn' ? 'WARN ' : ''}${event.message}`;
}

/**
 * Runs `work` (a failover or switchover call that answers when it is over) while printing the
 * controller's events about `cluster` as they happen: the operator sees each step, not a silent
 * wait. A controller without /v1/events (older) just runs `work`.
 */
export async function withProgress<T>(
  client: AdminClient,
  cluster: string,
  print: (line: string) => void,
  work: () => Promise<T>,
): Promise<T> {
  let after: number;
  try {
    after = (await client.events(0, 0, cluster)).last;
  } catch {
    return work();
  }
  const show = (events: readonly ControllerEvent[]) => {
    for (const event of events) print(`  ${formatEvent(event)}`);
  };
  const done = new AbortController();
  const follow = (async () => {
    while (!done.signal.aborted) {
      const page = await client.events(after, HOLD_S, cluster, done.signal).catch(() => null);
      // A failed hold (the controller busy or gone) ends the progress, not the command.
      if (!page) return;
      show(page.events);
      after = page.next;
    }
  })();
  try {
    return await work();
  } finally {
    done.abort();
    await follow;
    // The last steps may have been logged between the end of the hold and the answer.
    const rest = await client.events(after, 0, cluster).catch(() => null);
    if (rest) show(rest.events);
  }
}
