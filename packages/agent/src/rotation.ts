import { createHash } from 'node:crypto';
import { backoffDelay, retryAfterDelay, spreadDelay } from './backoff.js';
import { ControllerUnavailableError } from './errors.js';

/**
 * What one failed exchange with a controller means for the next:
 * - `overloaded`: it is there and serving, but sheds new work for now (503 PULLOVER_BUSY or
 *   PULLOVER_OVERLOADED): the same one again after its Retry-After. Moving on would carry this
 *   agent's load to controllers that see the same fan-out burst from their own share of the fleet,
 *   and a new connection (a TLS handshake) is the dearest thing an agent can bring them.
 * - `redirected`: it says it must not be asked (503 PULLOVER_NOT_SERVING: cut off from etcd, its
 *   mapping may be stale; 421 PULLOVER_NOT_LEADER): the next one, at once.
 * - `failed`: down, too slow, stale (a version behind the one applied) or broken: the next one.
 */
export type Verdict = 'overloaded' | 'redirected' | 'failed';

const OVERLOADED = new Set(['PULLOVER_BUSY', 'PULLOVER_OVERLOADED']);

export function verdictOf(error: unknown): Verdict {
  const answer = error instanceof ControllerUnavailableError ? error.answer : undefined;
  if (answer?.status === 421) return 'redirected';
  if (answer?.status === 503 && answer.code === 'PULLOVER_NOT_SERVING') return 'redirected';
  if (answer?.status === 503 && answer.code !== undefined && OVERLOADED.has(answer.code)) return 'overloaded';
  return 'failed';
}

/**
 * The controllers in the order this agent asks them: rendezvous hashing, each ranked by a hash of
 * the agent's name and its URL. The first is stable across restarts and the same whatever the
 * order of the config's list; a fleet splits evenly; and the agents of a controller that goes away
 * spread evenly over the others (each has its own next), instead of all moving to one neighbour.
 */
export function rankControllers<T extends { readonly url: string }>(name: string, controllers: readonly T[]): T[] {
  const score = (url: string) => createHash('sha256').update(`${name}\n${url}`).digest().readUIntBE(0, 6);
  return controllers
    .map((controller) => ({ controller, score: score(controller.url) }))
    .sort((a, b) => b.score - a.score || (a.controller.url < b.controller.url ? -1 : 1))
    .map(({ controller }) => controller);
}

/**
 * Which controller the agent holds its one long-poll (and sends its reports) on, and how long it
 * waits after a failure. It moves on after a failure; only after a whole round of them in a row
 * does it back off (full jitter, growing per round), since then no controller can answer.
 */
export class Rotation<T> {
  readonly #order: readonly T[];
  readonly #backoff: { readonly min: number; readonly max: number };
  readonly #random: () => number;
  #index = 0;
  /** Failures in a row, overloaded answers aside. */
  #failures = 0;
  #outageSince = 0;

  constructor(order: readonly T[], backoff: { readonly min: number; readonly max: number }, random = Math.random) {
    this.#order = order;
    this.#backoff = backoff;
    this.#random = random;
  }

  get current(): T {
    return this.#order[this.#index] as T;
  }

  /** Every controller, the current one first. */
  get fromCurrent(): T[] {
    return [...this.#order.slice(this.#index), ...this.#order.slice(0, this.#index)];
  }

  /** Stays with `controller`, which just answered. */
  settle(controller: T): void {
    const index = this.#order.indexOf(controller);
    if (index >= 0) this.#index = index;
  }

  /** The current controller answered; true when that ends a run of failures. */
  answered(): boolean {
    const after = this.#failures > 0;
    this.#failures = 0;
    return after;
  }

  /** The current controller failed with `error`: moves on if it should, and says how long to wait first. */
  failed(error: unknown, now = Date.now()): number {
    const verdict = verdictOf(error);
    const retryAfter = error instanceof ControllerUnavailableError ? error.retryAfterMs : undefined;
    if (verdict === 'overloaded') return retryAfterDelay(retryAfter ?? this.#backoff.min, this.#random);
    if (this.#failures === 0) this.#outageSince = now;
    this.#failures += 1;
    this.#index = (this.#index + 1) % this.#order.length;
    const { min, max } = this.#backoff;
    if (this.#failures % this.#order.length === 0) {
      if (retryAfter !== undefined) return retryAfterDelay(retryAfter, this.#random);
      const rounds = this.#failures / this.#order.length;
      return backoffDelay(rounds, min, max, { outageMs: now - this.#outageSince, random: this.#random });
    }
    return verdict === 'redirected' ? 0 : spreadDelay(min, this.#random);
  }
}
