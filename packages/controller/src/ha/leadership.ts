import type { EtcdClient } from './etcd-client.js';
import { type Compare, compare, op } from './codec.js';
import type { Lease } from './lease.js';

/** Who holds the leader key, as any controller reads it. */
export interface LeaderInfo {
  /** The leading controller's name (its `store.etcd.name`). */
  readonly name: string;
  /** The leader key's create revision: it grows with every new leadership. */
  readonly term: number;
  /** What the leader published with its key (its URL, for redirects). */
  readonly info: string;
}

/** The leader key's value: the holder's name and what it publishes. */
export function leaderValue(name: string, info: string): string {
  return JSON.stringify({ name, info });
}

export function leaderInfoOf(value: string, term: number): LeaderInfo {
  try {
    const parsed = JSON.parse(value) as { name?: unknown; info?: unknown };
    return { name: String(parsed.name ?? '?'), term, info: typeof parsed.info === 'string' ? parsed.info : '' };
  } catch {
    return { name: value, term, info: '' };
  }
}

/**
 * This controller's leadership: from creating the leader key (bound to its lease) until the lease
 * is lost or the key is gone or someone else's. Act only while `lost` is undefined, each action
 * bounded by timeLeftMs(); every write carries guards(), so a deposed leader's write is refused.
 */
export class Leadership {
  readonly term: number;
  readonly leaderKey: string;
  readonly lease: Lease;
  readonly #client: EtcdClient;

  constructor(client: EtcdClient, leaderKey: string, term: number, lease: Lease) {
    this.#client = client;
    this.leaderKey = leaderKey;
    this.term = term;
    this.lease = lease;
  }

  /** Why this leadership ended, or undefined while it holds. */
  get lost(): string | undefined {
    return this.lease.lost;
  }

  /** Milliseconds this controller may still act as the leader: cut each MySQL statement's timeout to it. */
  timeLeftMs(): number {
    return this.lease.timeLeftMs();
  }

  /** Called once, with the reason, when the leadership ends. */
  onLost(listener: (reason: string) => void): () => void {
    return this.lease.onLost(listener);
  }

  /** The conditions of every write the leader makes: the leader key is still the one this term created, on our lease. */
  guards(): Compare[] {
    return [compare.created(this.leaderKey, this.term), compare.lease(this.leaderKey, this.lease.id)];
  }

  /** Ends it for good (a refused write, or the key found gone): stops acting at once. */
  lose(reason: string): void {
    this.lease.lose(reason);
  }

  /**
   * Re-reads the leader key; ends the leadership when it is gone or no longer ours (deleted or
   * overwritten by hand, or the lease expired). An unreachable etcd is left to the lease deadline.
   */
  async verify(): Promise<void> {
    if (this.lost !== undefined) return;
    const { kvs } = await this.#client.range(this.leaderKey, { budgetMs: this.#client.retryTimeoutMs });
    const kv = kvs[0];
    if (kv === undefined) this.lose(`the leader key ${this.leaderKey} is gone`);
    else if (kv.createRevision !== this.term || kv.lease !== this.lease.id) {
      this.lose(`the leader key ${this.leaderKey} was replaced (term ${kv.createRevision}, lease ${kv.lease})`);
    }
  }

  /** Steps down: deletes the key if still ours and ends the lease, so that another controller takes over now. */
  async resign(): Promise<void> {
    const wasLeader = this.lost === undefined;
    this.lose('resigned');
    if (wasLeader) await this.#client.txn(this.guards(), [op.delete(this.leaderKey)]).catch(() => undefined);
    await this.lease.revoke();
  }
}
