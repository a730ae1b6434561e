import { type ControllerEvent, type EventsResponse, MAX_EVENTS_PER_ANSWER } from '@pullover/protocol';
import type { LogLine } from '../log-line.js';

/**
 * A few failovers' worth of sentences, and one publish to a large fleet: every agent that applies
 * a version is one line. A few MB at most; the journal keeps everything.
 */
const DEFAULT_CAPACITY = 10_000;

interface Waiter {
  readonly cluster: string | undefined;
  readonly wake: () => void;
}

/**
 * The controller's recent decisions and actions, numbered, in memory. Every sentence the
 * controller logs about a cluster or an agent lands here too, so `events --follow`, the status
 * page and a failover's progress read the same lines as the journal.
 */
export class EventLog {
  readonly #capacity: number;
  readonly #now: () => Date;
  readonly #events: ControllerEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  #seq = 0;
  #closed = false;

  constructor(now: () => Date, capacity = DEFAULT_CAPACITY) {
    this.#now = now;
    this.#capacity = capacity;
  }

  /** The seq of the newest event (0 before the first). */
  get last(): number {
    return this.#seq;
  }

  append(line: LogLine): ControllerEvent {
    const event: ControllerEvent = {
      seq: ++this.#seq,
      at: this.#now().toISOString(),
      level: line.level,
      cluster: line.cluster ?? null,
      message: line.message,
    };
    this.#events.push(event);
    // Trimmed in slices of a quarter: one splice per 2,500 events, not one per event.
    if (this.#events.length > this.#capacity * 1.25) this.#events.splice(0, this.#events.length - this.#capacity);
    for (const waiter of this.#waiters) {
      if (matches(event, waiter.cluster)) waiter.wake();
    }
    return event;
  }

  /** Events after `after` (of `cluster` and of no cluster, when given), oldest first, at most one page. */
  since(after: number, cluster?: string): EventsResponse {
    // A client ahead of us followed a controller that has since restarted: it gets what we have.
    if (after > this.#seq) after = 0;
    const first = this.#events[0]?.seq ?? this.#seq + 1;
    // seq is dense, so the first event after `after` sits at a computable index.
    const from = Math.max(0, after + 1 - first);
    const events: ControllerEvent[] = [];
    let next = Math.max(after, first - 1);
    for (let i = from; i < this.#events.length && events.length < MAX_EVENTS_PER_ANSWER; i++) {
      const event = this.#events[i] as ControllerEvent;
      next = event.seq;
      if (matches(event, cluster)) events.push(event);
    }
    return { events, next: Math.min(next, this.#seq), first, last: this.#seq };
  }

  /** Like since(), but when nothing matches yet, holds up to `ms` (or until `signal` aborts) for an event that does. */
  async wait(after: number, ms: number, cluster?: string, signal?: AbortSignal): Promise<EventsResponse> {
    const now = this.since(after, cluster);
    if (now.events.length > 0 || ms <= 0 || this.#closed || signal?.aborted) return now;
    after = now.next;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(waiter);
        resolve();
      };
      const waiter: Waiter = { cluster, wake: done };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(waiter);
    });
    return this.since(after, cluster);
  }

  /** Answers every held request now: a closing server must not wait out their holds. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.wake();
  }
}

function matches(event: ControllerEvent, cluster: string | undefined): boolean {
  return cluster === undefined || event.cluster === null || event.cluster === cluster;
}
