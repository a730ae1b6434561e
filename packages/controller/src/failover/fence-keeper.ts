import type { RejoinResponse } from '@pullover/protocol';
import type { LogLine } from '../log-line.js';
import type { MysqlSession } from '../mysql/session.js';
import type { StateKeeper } from '../state/keeper.js';
import type { ClusterObserver } from '../topology/observer.js';
import { type FenceOutcome, fenceServer } from './fence.js';

/** How often a fenced server that does not answer is tried again: a frozen VM can wake at any moment. */
const RETRY_MS = 100;

/**
 * Attempts to reach one silent server at once. A connect to a frozen or cut-off host hangs for the
 * whole connect timeout; started one after another, the fence would come up to that long after the
 * host is back. Overlapping, a new one starts every RETRY_MS: twice what the default 1 s connect
 * timeout keeps in flight, so a round never finds every slot taken.
 */
const MAX_ATTEMPTS = 20;

/**
 * Keeps former masters read-only for as long as they stay fenced. The moment one answers again
 * (SIGCONT, a VM thawed, mysqld restarted with read_only=OFF in its my.cnf) it is made read_only
 * and its client connections are killed: pooled connections survive a freeze and would write to it.
 */
export class FenceKeeper {
  readonly #unreachable = new Set<string>();
  readonly #attempts = new Map<string, number>();
  /** Servers being fenced (or rejoined) right now: one attempt acts, the others stand down. */
  readonly #acting = new Set<string>();
  /** The fence under way on a server, until it is read_only and its position read. */
  readonly #fencing = new Map<string, Promise<unknown>>();
  /** What each server had executed when it was last fenced, and when (performance.now()). */
  readonly #fencedAt = new Map<string, { readonly executed: string; readonly atMs: number }>();
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #next: (() => void) | undefined;

  /** Servers whose automatic rejoin was refused (errant transactions): not tried again until restart. */
  readonly #refused = new Set<string>();

  constructor(
    private readonly cluster: string,
    private readonly keeper: StateKeeper,
    private readonly observer: ClusterObserver,
    private readonly log: (line: LogLine) => void,
    /** With `rejoin: auto`: make a fenced server that answers a replica of the master. */
    private readonly autoRejoin?: (name: string) => Promise<RejoinResponse>,
  ) {}

  start(): void {
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Starts the next round now (a failover just put its old master on the fenced list). */
  wake(): void {
    clearTimeout(this.#timer);
    this.#next?.();
  }

  /**
   * What `name` had executed when this fencer fenced it after `sinceMs` (performance.now()), or
   * undefined: a failover's old master that woke up while the failover ran. A fence under way is
   * awaited, so that nothing is promoted beside an old master still writable.
   */
  async fencedSince(name: string, sinceMs: number): Promise<string | undefined> {
    await this.#fencing.get(name)?.catch(() => undefined);
    const fenced = this.#fencedAt.get(name);
    return fenced && fenced.atMs >= sinceMs ? fenced.executed : undefined;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      // A server since removed from the config is no longer ours to fence.
      const known = new Set(this.observer.cluster.servers.map((s) => s.name));
      // Only the acting controller fences: a follower's statements would be refused anyway.
      const fenced = this.observer.acting ? this.keeper.fencedServers(this.cluster).filter((n) => known.has(n)) : [];
      const started = fenced.map((name) => this.#attempt(name));
      // Every server answered within RETRY_MS: the next look after the interval (RETRY_MS for one
      // that refused). One that did not may hang the whole connect timeout (a frozen or cut-off
      // host): another attempt starts beside it now, so the fence follows within RETRY_MS of its return.
      if (await this.#pause(RETRY_MS, Promise.all(started))) {
        await this.#pause(this.#unreachable.size > 0 ? RETRY_MS : this.observer.cluster.monitor.interval);
      }
    }
  }

  /** Resolves true when `until` settled first, false after `ms` or a wake(). */
  #pause(ms: number, until?: Promise<unknown>): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#timer = timer;
      this.#next = () => resolve(false);
      const settled = () => {
        clearTimeout(timer);
        resolve(true);
      };
      until?.then(settled, settled);
    });
  }

  #attempt(name: string): Promise<void> {
    const attempts = this.#attempts.get(name) ?? 0;
    // One that answered is being fenced (or rejoined): more attempts would only stand down.
    if (attempts >= MAX_ATTEMPTS || this.#acting.has(name)) return Promise.resolve();
    this.#attempts.set(name, attempts + 1);
    return this.#check(name).finally(() => this.#attempts.set(name, (this.#attempts.get(name) ?? 1) - 1));
  }

  #rejoinDue(name: string): boolean {
    return this.autoRejoin !== undefined && !this.#refused.has(name);
  }

  async #check(name: string): Promise<void> {
    let session;
    try {
      session = await this.observer.session(name);
    } catch {
      this.#unreachable.add(name);
      return;
    }
    if (this.#acting.has(name)) return;
    this.#acting.add(name);
    try {
      const wasUnreachable = this.#unreachable.delete(name);
      // Registered before the first await: a failover asking fencedSince() meanwhile waits for it.
      const fencing = this.#fenceIfDue(name, session, wasUnreachable);
      this.#fencing.set(name, fencing);
      const outcome = await fencing.finally(() => this.#fencing.delete(name));
      if (!outcome) return;
      const { wasWritable, killed } = outcome;
      this.log({
        level: 'warn',
        message: `${this.cluster}: fenced ${name} answers again: ${wasWritable ? 'it was WRITABLE, made read_only' : 'still read_only'}, ${killed} client connection(s) killed`,
      });
      if (this.#rejoinDue(name)) {
        // The monitor logs the outcome; a refusal (errant transactions) waits for an operator.
        const result = await this.autoRejoin?.(name);
        if (result?.outcome === 'refused') this.#refused.add(name);
      }
    } catch {
      this.#unreachable.add(name);
    } finally {
      this.#acting.delete(name);
    }
  }

  /** Fences `name` unless it is read_only and was not lost (nor due a rejoin); records what it had executed. */
  async #fenceIfDue(name: string, session: MysqlSession, wasUnreachable: boolean): Promise<FenceOutcome | undefined> {
    const [row] = await session.query<{ read_only: string | number }[]>(session.dialect.overview);
    if (!wasUnreachable && Number(row?.read_only) === 1 && !this.#rejoinDue(name)) return undefined;
    // Asked again after the awaits: a cancelled failover hands its old master back, writable.
    if (!this.keeper.fencedServers(this.cluster).includes(name)) return undefined;
    const outcome = await fenceServer(session);
    const [fenced] = await session.query<{ gtid: string }[]>(session.dialect.overview);
    this.#fencedAt.set(name, { executed: String(fenced?.gtid ?? ''), atMs: performance.now() });
    return outcome;
  }
}
