import { describeCause } from '../errors.js';
import { compare, op } from './codec.js';
import type { EtcdClient } from './etcd-client.js';
import { Lease, type Monotonic } from './lease.js';
import { type LeaderInfo, leaderInfoOf, Leadership, leaderValue } from './leadership.js';
import type { LeaseTiming } from './timing.js';

export interface ElectionOptions {
  /** Every key of this pullover deployment lives under it ("/pullover/"). */
  readonly prefix: string;
  /** This controller's name, unique among the controllers. */
  readonly name: string;
  /** Published with the member and leader keys: the controller's URL, for redirects. */
  readonly info?: string;
  readonly timing: LeaseTiming;
  readonly now?: Monotonic;
  /** One sentence per change of role (won, lost, etcd unreachable, reachable again). */
  readonly log?: (sentence: string) => void;
}

/**
 * Campaigns for the `leader` key, once per keepalive interval: a controller keeps a lease (its
 * `members/<name>` key is bound to it), reads who leads, and when nobody does, creates the key in a
 * transaction that only succeeds while it is absent — two candidates cannot both win. The term is
 * the key's create revision. While leading, each round re-reads the key (deleted or overwritten by
 * hand ends the leadership); the lease deadline covers an etcd that stopped answering.
 */
export class Election {
  readonly leaderKey: string;
  readonly memberKey: string;
  readonly #client: EtcdClient;
  readonly #options: ElectionOptions;
  readonly #elected = new Set<(leadership: Leadership) => void>();
  #lease: Lease | undefined;
  #leadership: Leadership | undefined;
  #leader: LeaderInfo | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #started = false;
  #stopped = false;
  #failing: string | undefined;
  #answeredAt: number;

  constructor(client: EtcdClient, options: ElectionOptions) {
    this.#client = client;
    this.#options = options;
    this.leaderKey = `${options.prefix}leader`;
    this.memberKey = `${options.prefix}members/${options.name}`;
    this.#answeredAt = this.#now();
  }

  /** Milliseconds since etcd last answered a round (or since this election was made). */
  get cutOffMs(): number {
    return this.#now() - this.#answeredAt;
  }

  /** Why etcd does not answer, while it does not. */
  get failing(): string | undefined {
    return this.#failing;
  }

  #now(): number {
    return (this.#options.now ?? performance.now.bind(performance))();
  }

  /** Who led at the last round (this controller included); undefined when nobody did or etcd did not answer. */
  get leader(): LeaderInfo | undefined {
    return this.#leader;
  }

  /** This controller's leadership while it holds. */
  get leadership(): Leadership | undefined {
    return this.#leadership?.lost === undefined ? this.#leadership : undefined;
  }

  /** Called each time this controller wins: re-read the state and re-observe MySQL before acting. */
  onElected(listener: (leadership: Leadership) => void): () => void {
    this.#elected.add(listener);
    return () => this.#elected.delete(listener);
  }

  /** Runs a round every keepalive interval until stop(). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops campaigning; `resign` (default) also hands the leadership over now rather than at lease expiry. */
  async stop(resign = true): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    const lease = this.#lease;
    const leadership = this.#leadership;
    this.#lease = undefined;
    this.#leadership = undefined;
    if (!resign) {
      lease?.lose('election stopped');
      return;
    }
    if (leadership) await leadership.resign().catch(() => undefined);
    else await lease?.revoke().catch(() => undefined);
  }

  /** One round, run now (tests, and the wiring right after a refused write). */
  round(): Promise<void> {
    this.#running = this.#running.then(() => this.#round());
    return this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.round().finally(() => this.#schedule(this.#options.timing.keepaliveMs));
    }, ms);
  }

  async #round(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#campaign();
      this.#answeredAt = this.#now();
      if (this.#failing !== undefined) this.#log(`etcd answers again (${this.#client.endpoint})`);
      this.#failing = undefined;
    } catch (error) {
      const why = describeCause(error);
      if (this.#failing === undefined) this.#log(`etcd unreachable, no leadership change possible: ${why}`);
      this.#failing = why;
      this.#leader = this.leadership ? this.#leader : undefined;
    }
  }

  async #campaign(): Promise<void> {
    const lease = await this.#liveLease();
    if (this.#leadership) {
      await this.#leadership.verify();
      if (this.#leadership.lost === undefined) return;
      this.#leadership = undefined;
      return;
    }
    const { kvs } = await this.#client.range(this.leaderKey);
    const holder = kvs[0];
    if (holder) {
      this.#leader = leaderInfoOf(holder.value, holder.createRevision);
      return;
    }
    const value = leaderValue(this.#options.name, this.#options.info ?? '');
    const result = await this.#client.txn(
      [compare.created(this.leaderKey, 0)],
      [op.put(this.leaderKey, value, lease.id)],
      [op.get(this.leaderKey)],
    );
    const winner = result.ranges[0]?.[0];
    if (!result.succeeded) {
      this.#leader = winner ? leaderInfoOf(winner.value, winner.createRevision) : undefined;
      return;
    }
    // The put created the key in this transaction: its create revision is the transaction's.
    const leadership = new Leadership(this.#client, this.leaderKey, result.revision, lease);
    this.#leadership = leadership;
    this.#leader = { name: this.#options.name, term: result.revision, info: this.#options.info ?? '' };
    leadership.onLost((reason) => this.#log(`lost the leadership of term ${leadership.term}: ${reason}`));
    this.#log(`became the leader, term ${result.revision}`);
    for (const listener of this.#elected) listener(leadership);
  }

  /** The lease this controller campaigns with; a lost one is replaced (and revoked, freeing the keys it held). */
  async #liveLease(): Promise<Lease> {
    const current = this.#lease;
    if (current && current.lost === undefined) return current;
    if (current) void this.#client.revoke(current.id).catch(() => undefined);
    this.#lease = undefined;
    this.#leadership = undefined;
    const lease = await Lease.grant(this.#client, this.#options.timing, this.#options.now);
    const member = JSON.stringify({ name: this.#options.name, info: this.#options.info ?? '' });
    await this.#client.txn([], [op.put(this.memberKey, member, lease.id)]);
    this.#lease = lease;
    return lease;
  }

  #log(sentence: string): void {
    this.#options.log?.(`controller ${this.#options.name}: ${sentence}`);
  }
}
