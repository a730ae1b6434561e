import { FailoverRefused } from '../errors.js';

/**
 * One operation at a time on a cluster: a failover, a switchover, a set-writable, a heartbeat
 * change. Claimed before the first await, so a manual failover and the loop never both start one;
 * released however the operation ends.
 */
export class Exclusive {
  #holder: string | undefined;

  constructor(private readonly cluster: string) {}

  /** What holds the cluster now (e.g. "a failover"), or undefined. */
  get holder(): string | undefined {
    return this.#holder;
  }

  /** Runs `fn` holding the cluster as `what`; refused when something else holds it. */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#holder) throw new FailoverRefused(this.cluster, `${this.#holder} is already under way`);
    this.#holder = what;
    try {
      return await fn();
    } finally {
      this.#holder = undefined;
    }
  }
}
