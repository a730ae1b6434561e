import { Mapping } from '@pullover/protocol';
import { ControllerClosing, type NotServing } from '../errors.js';
import { DeadlineWheel } from './deadline-wheel.js';

/** A published mapping and its JSON, encoded once: every parked poll is answered with the same bytes. */
export interface Published {
  readonly mapping: Mapping;
  readonly body: Buffer;
}

/** What a parked poll's client does when it leaves: an IncomingMessage emits 'close'. */
export interface Departure {
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** Told of each publish, for the fleet's log: who has yet to apply it, and how long answering took. */
export interface PublishListener {
  /** `version` is current now; `parked` polls are about to hear of it. */
  published(version: number, parked: number): void;
  /** Every poll parked at the publish of `version` has had its answer, `ms` after the publish. */
  answered(version: number, count: number, ms: number): void;
}

/** How a parked poll ends: a newer mapping, null at its deadline or when its client left, or a refusal (a 503). */
export type Answer = (outcome: Published | null | ControllerClosing | NotServing) => void;

// Per parked poll: this object alone. Kept tiny — the target is 10,000 parked polls.
interface Waiter {
  readonly after: number;
  readonly answer: Answer;
  slot: number;
  departure: Departure | undefined;
  onLeave: (() => void) | undefined;
  settled: boolean;
}

/** Deadline precision of parked polls; they answer at most this late, never early. */
const TICK_MS = 100;

/**
 * Parked polls answered per turn of the event loop. Answering 10,000 at once held the loop for
 * most of a second; between two turns the admin call that published, /healthz and every other
 * request get theirs.
 */
const ANSWERS_PER_TURN = 250;

/**
 * Holds the current mapping and the long-polls waiting for a newer one. Publishing answers every
 * waiter, a few hundred per turn of the event loop; a waiter whose client left is dropped so it
 * holds no memory until its deadline.
 */
export class MappingPublisher {
  #current: Published;
  #closed = false;
  #publishes = 0;
  readonly #wheel = new DeadlineWheel<Waiter>(TICK_MS, (waiter) => this.#settle(waiter, null));
  readonly #listeners: PublishListener[] = [];

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

  listen(listener: PublishListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Makes `mapping` current and starts answering every waiter it is news to. Throws when the
   * mapping is invalid or not newer: agents refuse older versions, so a version that goes back
   * would strand them.
   */
  publish(mapping: Mapping): Published {
    if (this.#closed) throw new ControllerClosing();
    const next = freezePublished(mapping);
    const version = next.mapping.version;
    if (version <= this.version) {
      throw new Error(`mapping version ${version} is not newer than ${this.version}`);
    }
    this.#current = next;
    this.#publishes++;
    const waiters = this.#waiters().filter((waiter) => waiter.after < version);
    for (const listener of this.#listeners) listener.published(version, waiters.length);
    const started = performance.now();
    // Each gets the mapping current when its turn comes: a second publish meanwhile is not missed.
    this.#inTurns(waiters, (waiter) => this.#settle(waiter, this.#current), () => {
      const ms = Math.round(performance.now() - started);
      for (const listener of this.#listeners) listener.answered(version, waiters.length, ms);
    });
    return next;
  }

  /**
   * The current mapping at once if its version is above `after`; otherwise the next one published
   * within `ms`, or null at the deadline or when the client leaves (`departure` emits 'close').
   * Rejects with ControllerClosing once `close()` was called.
   */
  wait(after: number, ms: number, departure?: Departure): Promise<Published | null> {
    return new Promise((resolve, reject) => {
      this.park(after, ms, departure, (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
    });
  }

  /**
   * wait() without a promise: `answer` is called once, at once if there is nothing to wait for. A
   * parked poll of the HTTP route holds no async frame nor promise this way, only its Waiter.
   */
  park(after: number, ms: number, departure: Departure | undefined, answer: Answer): void {
    if (this.#closed) return answer(new ControllerClosing());
    if (this.version > after) return answer(this.#current);
    if (ms <= 0) return answer(null);
    const waiter: Waiter = { after, answer, slot: 0, departure, onLeave: undefined, settled: false };
    waiter.slot = this.#wheel.add(waiter, Date.now() + ms);
    if (departure) {
      waiter.onLeave = () => this.#settle(waiter, null);
      departure.once('close', waiter.onLeave);
    }
  }

  /**
   * Ends every parked poll, as if its hold had run out (204). An agent answers an empty hold
   * with a full report, greeting check of each master included: this is how the controller asks
   * every app server "can you reach the master?" the moment it starts to doubt. Returns how many.
   */
  askForReports(): number {
    const waiters = this.#waiters();
    this.#inTurns(waiters, (waiter) => this.#settle(waiter, null));
    return waiters.length;
  }

  /** Answers every parked poll with `error` (a 503): this controller must not hold them now. */
  release(error: NotServing): number {
    const waiters = this.#waiters();
    this.#inTurns(waiters, (waiter) => this.#settle(waiter, error));
    return waiters.length;
  }

  /** Answers every parked poll with ControllerClosing (503) and refuses new ones. */
  close(): void {
    this.#closed = true;
    const closing = new ControllerClosing();
    for (const waiter of this.#waiters()) this.#settle(waiter, closing);
  }

  #waiters(): Waiter[] {
    return this.#wheel.entries().map(([waiter]) => waiter);
  }

  /** The first turn at once, the others each after the event loop has served what arrived meanwhile. */
  #inTurns(waiters: readonly Waiter[], answer: (waiter: Waiter) => void, done?: () => void): void {
    const turn = (from: number) => {
      const to = Math.min(from + ANSWERS_PER_TURN, waiters.length);
      for (let i = from; i < to; i++) answer(waiters[i] as Waiter);
      if (to < waiters.length) setImmediate(turn, to);
      else done?.();
    };
    turn(0);
  }

  #settle(waiter: Waiter, outcome: Published | null | ControllerClosing | NotServing): void {
    if (waiter.settled) return;
    waiter.settled = true;
    this.#wheel.remove(waiter, waiter.slot);
    if (waiter.departure && waiter.onLeave) waiter.departure.off('close', waiter.onLeave);
    waiter.departure = undefined;
    waiter.onLeave = undefined;
    waiter.answer(outcome);
  }
}

function freezePublished(mapping: Mapping): Published {
  // Validated on the way out too: nothing that could inject a line into a hosts file is ever served.
  const valid = Mapping.parse(mapping);
  return Object.freeze({ mapping: valid, body: Buffer.from(JSON.stringify(valid), 'utf8') });
}
