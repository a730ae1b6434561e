import { setTimeout as sleep } from 'node:timers/promises';
import type { ControllerEvent } from '@pullover/protocol';
import { describeCause, RemoteError, Unreachable } from '../errors.js';
import type { AdminClient } from './client.js';
import { HOLD_S } from './timeouts.js';

/** Quick enough to be back soon after a controller restart; capped so that a long outage costs little. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

export interface FollowOptions {
  readonly cluster?: string | undefined;
  /** After the kept events, each new one as it comes, across controller restarts, until `signal` aborts. */
  readonly follow: boolean;
  readonly signal: AbortSignal;
  readonly print: (event: ControllerEvent) => void;
  /** A line about the connection or a gap, for stderr. */
  readonly note: (line: string) => void;
}

/**
 * The events the controller keeps, oldest first, then (`follow`) the new ones. A controller lost
 * while following is retried until it answers, with one line when it is lost and one when it is
 * back; nothing is printed twice. A controller that cannot be reached at the start is an error: a
 * wrong --url must not look like a quiet controller.
 */
export async function followEvents(client: AdminClient, options: FollowOptions): Promise<void> {
  const { cluster, follow, signal, note } = options;
  let after = 0;
  // The last event printed: finding it again on reconnecting proves the controller did not restart.
  let seen: ControllerEvent | undefined;
  let reached = false;
  let lost = false;
  let retryMs = RETRY_FIRST_MS;
  while (!signal.aborted) {
    try {
      if (lost) {
        const from = await resumeFrom(client, after, seen, cluster, signal);
        note(
          from === after
            ? `pullover-controller: the controller answers again; following on after event ${after}`
            : 'pullover-controller: the controller answers again; it restarted and numbers its events from 1 again, so all of them follow',
        );
        if (from !== after) seen = undefined;
        after = from;
        lost = false;
        retryMs = RETRY_FIRST_MS;
      }
      const page = await client.events(after, follow ? HOLD_S : 0, cluster, signal);
      reached = true;
      if (after > 0 && page.first > after + 1) note(`(${page.first - after - 1} events were dropped: too many too fast)`);
      for (const event of page.events) options.print(event);
      seen = page.events.at(-1) ?? seen;
      after = page.next;
      if (!follow && page.next >= page.last) return;
    } catch (error) {
      if (signal.aborted) return;
      if (!follow || !reached || !transient(error)) throw error;
      if (!lost) note(`pullover-controller: ${describeCause(error)}; retrying until it answers (Ctrl-C to stop)`);
      lost = true;
      await sleep(retryMs, undefined, { signal }).catch(() => undefined);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    }
  }
}

/** Down, restarting, closing or behind a proxy that lost it: worth asking again. A refusal is not. */
function transient(error: unknown): boolean {
  return error instanceof Unreachable || (error instanceof RemoteError && error.statusCode === 503);
}

/**
 * Where to go on once a lost controller answers again: `after` when it is the one followed; 0 when
 * it restarted, since its numbers started over and all its events are new here. The last event
 * printed, found again with the same time and sentence, proves the former. Without one (a --cluster
 * that has matched nothing yet), a newest event below `after` is the only sign of a restart.
 */
async function resumeFrom(
  client: AdminClient,
  after: number,
  seen: ControllerEvent | undefined,
  cluster: string | undefined,
  signal: AbortSignal,
): Promise<number> {
  if (seen === undefined) return (await client.events(after, 0, cluster, signal)).last < after ? 0 : after;
  const page = await client.events(seen.seq - 1, 0, cluster, signal);
  const again = page.events[0];
  if (again?.seq === seen.seq && again.at === seen.at && again.message === seen.message) return after;
  // Trimmed meanwhile by a storm of events: the same controller, and the next page reports the gap.
  return page.first > seen.seq && page.last >= after ? after : 0;
}
