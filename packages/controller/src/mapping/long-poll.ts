import { Mapping } from '@pullover/protocol';
import { ControllerClosing } from '../errors.js';
import { DeadlineWheel } from './deadline-wheel.js';

/** A published mapping and its JSON, encoded once: every parked poll is answered with the same bytes. */
export interface Published {
  readonly mapping: Mapping;
  readonly body: Buffer;
}

// Per parked poll: this object and its promise. Kept tiny — the target is 10,000 parked polls.
interface Waiter {
  readonly after: number;
  readonly resolve: (value: Published | null) => void;
  readonly reject: (error: Error) => void;
  slot: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Deadline precision of parked polls; they answer at most this late, never early. */
const TICK_MS = 100;

/**
 * Holds the current mapping and the long-polls waiting for a newer one. Publishing answers every
 * waiter at once; a waiter whose client left is dropped so it holds no memory until its deadline.
 */
export class MappingPublisher {
  #current: Published;
  #closed = false;
  #publishes = 0;
  readonly #wheel = new DeadlineWheel<Waiter>(TICK_MS, (waiter) => this.#settle(waiter, null));

  constructor(initial: Mapping) {
    this.#current = freezePublished(initial);
  }

  get current(): Published {
    return this.#current;
  }

  get version(): number {
    return this.#current.mapping.version;
  }

  /** Long-polls parked right now. */
  get parked(): number {
    return this.#wheel.size;
  }

  /** Mappings published since start (the initial one not counted). */
  get publishes(): number {
    return this.#publishes;
  }

  /**
   * Makes `mapping` current and answers every waiter it is news to. Throws when the mapping is
   * invalid or not newer: agents refuse older versions, so a version that goes back would strand them.
   */
  publish(mapping: Mapping): Published {
    if (this.#closed) throw new ControllerClosing();
    const next = freezePublished(mapping);
    if (next.mapping.version <= this.version) {
      throw new Error(`mapping version ${next.mapping.version} is not newer than ${this.version}`);
    }
    this.#current = next;
    this.#publishes++;
    for (const [waiter] of this.#wheel.entries()) {
      if (waiter.after < next.mapping.version) this.#settle(waiter, next);
    }
    return next;
  }

  /**
   * The current mapping at once if its version is above `after`; otherwise the next one published
   * within `ms`, or null at the deadline or when `signal` aborts (the client left).
   * Rejects with ControllerClosing once `close()` was called.
   */
  wait(after: number, ms: number, signal?: AbortSignal): Promise<Published | null> {
    if (this.#closed) return Promise.reject(new ControllerClosing());
    if (this.version > after) return Promise.resolve(this.#current);
    if (ms <= 0 || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { after, resolve, reject, slot: 0, signal, onAbort: undefined };
      waiter.slot = this.#wheel.add(waiter, Date.now() + ms);
      if (signal) {
        waiter.onAbort = () => this.#settle(waiter, null);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
    });
  }

  /**
   * Ends every parked poll now, as if its hold had run out (204). An agent answers an empty hold
   * with a full report, greeting check of each master included: this is how the controller asks
   * every app server "can you reach the master?" the moment it starts to doubt. Returns how many.
   */
  askForReports(): number {
    const waiters = [...this.#wheel.entries()].map(([waiter]) => waiter);
    for (const waiter of waiters) this.#settle(waiter, null);
    return waiters.length;
  }

  /** Answers every parked poll with ControllerClosing (503) and refuses new ones. */
  close(): void {
    this.#closed = true;
    const closing = new ControllerClosing();
    for (const [waiter] of this.#wheel.entries()) this.#settle(waiter, closing);
  }

  #settle(waiter: Waiter, outcome: Published | null | Error): void {
    this.#wheel.remove(waiter, waiter.slot);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    waiter.signal = undefined;
    waiter.onAbort = undefined;
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}

function freezePublished(mapping: Mapping): Published {
  // Validated on the way out too: nothing that could inject a line into a hosts file is ever served.
  const valid = Mapping.parse(mapping);
  return Object.freeze({ mapping: valid, body: Buffer.from(JSON.stringify(valid), 'utf8') });
}
