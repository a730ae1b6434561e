import { describeCause, EtcdError } from '../errors.js';
import type { EtcdClient } from './etcd-client.js';
import type { LeaseTiming } from './timing.js';

/** Monotonic milliseconds: a wall clock stepped by NTP must not stretch a lease. */
export type Monotonic = () => number;

const defaultNow: Monotonic = () => performance.now();

type LostListener = (reason: string) => void;

/**
 * An etcd lease kept alive by keepalives, and the time it is surely alive until: the send time of
 * the last acknowledged keepalive (or of the grant) + TTL − margin, on the monotonic clock. Once
 * lost (expired, revoked, refused, or no acknowledgement before that time) it stays lost: a new
 * one must be granted.
 */
export class Lease {
  readonly id: string;
  /** The TTL etcd granted, in ms. */
  readonly ttlMs: number;
  readonly #client: EtcdClient;
  readonly #timing: LeaseTiming;
  readonly #now: Monotonic;
  readonly #listeners = new Set<LostListener>();
  #aliveUntil: number;
  #lost: string | undefined;
  #lastError = 'none';
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;

  private constructor(
    client: EtcdClient,
    granted: { id: string; ttlMs: number },
    sentAt: number,
    timing: LeaseTiming,
    now: Monotonic,
  ) {
    this.#client = client;
    this.id = granted.id;
    this.ttlMs = granted.ttlMs;
    this.#timing = timing;
    this.#now = now;
    this.#aliveUntil = sentAt + granted.ttlMs - timing.marginMs;
    this.#armDeadline();
    this.#scheduleKeepalive(sentAt);
  }

  /** Grants a lease of `timing.ttlMs` and keeps it alive every `timing.keepaliveMs` until lost or stopped. */
  static async grant(client: EtcdClient, timing: LeaseTiming, now: Monotonic = defaultNow): Promise<Lease> {
    const sentAt = now();
    const granted = await client.grant(Math.ceil(timing.ttlMs / 1000));
    // Never trust more than asked: our deadline arithmetic and the config rule assumed that TTL.
    const ttlMs = Math.min(granted.ttlSeconds * 1000, timing.ttlMs);
    return new Lease(client, { id: granted.id, ttlMs }, sentAt, timing, now);
  }

  /** Why the lease was lost, or undefined while it is surely alive. */
  get lost(): string | undefined {
    if (this.#lost === undefined && this.#now() >= this.#aliveUntil) this.#lose(this.#unacknowledged());
    return this.#lost;
  }

  /** Monotonic time until which the lease is surely alive. */
  get aliveUntil(): number {
    return this.#aliveUntil;
  }

  /** Milliseconds the lease is surely alive for; 0 once lost. Bound every action's timeout by it. */
  timeLeftMs(): number {
    return this.lost === undefined ? Math.max(0, this.#aliveUntil - this.#now()) : 0;
  }

  /** Called once, with a sentence, when the lease is lost; returns the unsubscribe function. */
  onLost(listener: LostListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops keeping it alive and counts it lost now (another party ended it, or we are stepping down). */
  lose(reason: string): void {
    this.#lose(reason);
  }

  /** Ends the lease in etcd (its keys go with it) and stops the keepalives. */
  async revoke(): Promise<void> {
    this.#lose(`lease ${this.id} revoked by this controller`);
    await this.#client.revoke(this.id);
  }

  #scheduleKeepalive(lastSentAt: number): void {
    if (this.#lost !== undefined) return;
    const wait = Math.max(0, lastSentAt + this.#timing.keepaliveMs - this.#now());
    this.#keepaliveTimer = setTimeout(() => void this.#keepalive(), wait).unref();
  }

  async #keepalive(): Promise<void> {
    const sentAt = this.#now();
    try {
      const ttlSeconds = await this.#client.keepAlive(this.id, this.#timing.retryTimeoutMs);
      if (this.#lost !== undefined) return;
      if (ttlSeconds <= 0) {
        this.#lose(`etcd no longer has lease ${this.id} (expired or revoked)`);
        return;
      }
      this.#aliveUntil = Math.max(this.#aliveUntil, sentAt + this.ttlMs - this.#timing.marginMs);
      this.#armDeadline();
    } catch (error) {
      // Unreachable: the deadline decides. A refusal (etcd answered no) ends the lease at once.
      if (error instanceof EtcdError && error.grpcCode !== undefined) {
        this.#lose(`etcd refused the keepalive of lease ${this.id}: ${describeCause(error)}`);
        return;
      }
      this.#lastError = describeCause(error);
    }
    this.#scheduleKeepalive(sentAt);
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const wait = Math.max(0, this.#aliveUntil - this.#now());
    this.#deadlineTimer = setTimeout(() => {
      if (this.#now() >= this.#aliveUntil) this.#lose(this.#unacknowledged());
      else this.#armDeadline();
    }, wait).unref();
  }

  #unacknowledged(): string {
    return `no keepalive of lease ${this.id} acknowledged in time (etcd unreachable; last error: ${this.#lastError})`;
  }

  #lose(reason: string): void {
    if (this.#lost !== undefined) return;
    this.#lost = reason;
    clearTimeout(this.#keepaliveTimer);
    clearTimeout(this.#deadlineTimer);
    for (const listener of this.#listeners) listener(reason);
    this.#listeners.clear();
  }
}
