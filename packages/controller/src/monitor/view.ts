import type { Verdict } from '../failover/detector.js';
import type { LogLine } from '../log-line.js';
import type { ServerObservation } from '../topology/observation.js';
import { type Heard, lostBySilence, noteHeard } from '../topology/silence.js';

export interface Health {
  readonly verdict: Verdict;
  readonly since: Date;
}

/**
 * What the monitor last saw of its cluster, for the status page and the metrics, and what it
 * remembers between looks to judge the replicas' silence. Says when a server stops or starts
 * answering and when the verdict changes, once per change.
 */
export class ClusterView {
  readonly #observations = new Map<string, ServerObservation>();
  /** When each replica's receiver last showed something new from the master (topology/silence.ts). */
  readonly #heard = new Map<string, Heard>();
  #health: Health | undefined;

  constructor(
    private readonly cluster: string,
    private readonly log: (line: LogLine) => void,
  ) {}

  get health(): Health | undefined {
    return this.#health;
  }

  observation(server: string): ServerObservation | undefined {
    return this.#observations.get(server);
  }

  /**
   * Takes one round of observations made at `lookedAtMs` (performance.now()); resolves with the
   * replicas connected to their master that heard nothing from it for too long, and how long (ms).
   */
  note(observed: readonly ServerObservation[], lookedAtMs: number): Map<string, number> {
    const silent = new Map<string, number>();
    for (const o of observed) {
      this.#noteAnswering(o);
      // Unwatched while unreachable: what it heard meanwhile is unknown, so its silence starts afresh.
      const heard = o.reachable ? noteHeard(this.#heard.get(o.name), o.replica, lookedAtMs) : undefined;
      if (heard) this.#heard.set(o.name, heard);
      else this.#heard.delete(o.name);
      const silentMs = lostBySilence(heard, o.replica, lookedAtMs);
      if (silentMs !== undefined) silent.set(o.name, silentMs);
    }
    return silent;
  }

  /** The detector's verdict of this round; logged when its state changes. */
  judged(verdict: Verdict, now: Date): void {
    if (verdict.state === this.#health?.verdict.state) {
      this.#health = { verdict, since: this.#health.since };
      return;
    }
    this.#health = { verdict, since: now };
    this.log({ level: verdict.state === 'master-alive' ? 'info' : 'warn', message: `${this.cluster}: ${verdict.sentence}` });
  }

  /** After a failover: the next round judges the new master afresh. */
  forgetHealth(): void {
    this.#health = undefined;
  }

  #noteAnswering(o: ServerObservation): void {
    const before = this.#observations.get(o.name);
    this.#observations.set(o.name, o);
    if (o.reachable && before && !before.reachable) {
      this.log({ level: 'info', message: `${this.cluster}: ${o.name} answers again` });
    } else if (!o.reachable && (before?.reachable !== false || before.failure?.message !== o.failure?.message)) {
      this.log({ level: 'warn', message: `${this.cluster}: cannot observe ${o.name}: ${o.failure?.message}` });
    }
  }
}
