import type { LogLine } from '../log-line.js';

/** How often the event loop's lag is sampled. */
const SAMPLE_MS = 20;

/**
 * Behind by more than this, the controller sheds new work. Well below the agents' 10 s request
 * timeout: shed early, a request answered 503 at once costs far less than one that times out and
 * comes back; and an admin call or /healthz waits no longer than this behind the agents.
 */
export const OVERLOAD_LAG_MS = 150;

/** What a shed agent is told; it comes back after 1 to 2 times this, at random. */
export const RETRY_AFTER_S = 2;

/**
 * How far behind the event loop is: a timer that should fire every SAMPLE_MS, and how late it is.
 * While the loop is busy (a herd of requests read in one go), the time since the timer last ran
 * is the lag that requests read now have waited.
 */
export class LoopLag {
  readonly #timer: NodeJS.Timeout;
  #last = performance.now();
  #lag = 0;

  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#lag = Math.max(0, now - this.#last - SAMPLE_MS);
      this.#last = now;
    }, SAMPLE_MS);
    this.#timer.unref();
  }

  get ms(): number {
    return Math.max(this.#lag, performance.now() - this.#last - SAMPLE_MS);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Which agents' reports to answer 503 + Retry-After while the controller is behind: reports only,
 * and only from agents not known to be behind the current version (a new agent polls at once when
 * its report is shed, so it still hears of a newer version). Parked polls and polls that fetch a
 * newer version are never shed. Says once when shedding starts, and how much when it stops.
 */
export class ReportShedding {
  readonly #lag: () => number;
  readonly #say: (line: LogLine) => void;
  #shed = 0;
  #since = 0;

  constructor(lag: () => number, say: (line: LogLine) => void) {
    this.#lag = lag;
    this.#say = say;
  }

  /** The Retry-After in seconds to shed this report, or undefined to answer it. */
  decide(agentBehind: boolean): number | undefined {
    const lag = this.#lag();
    if (agentBehind || lag <= OVERLOAD_LAG_MS) {
      if (this.#shed > 0 && lag <= OVERLOAD_LAG_MS) this.#stop();
      return undefined;
    }
    if (this.#shed === 0) {
      this.#since = performance.now();
      this.#say({
        level: 'warn',
        message: `overloaded (event loop ${Math.round(lag)} ms behind): agents' reports are answered 503 for now and come back within ${RETRY_AFTER_S}–${2 * RETRY_AFTER_S} s; polls are served as ever`,
      });
    }
    this.#shed++;
    return RETRY_AFTER_S;
  }

  #stop(): void {
    const took = Math.round(performance.now() - this.#since);
    this.#say({
      level: 'info',
      message: `answering agents' reports again: ${this.#shed.toLocaleString('en-US')} were answered 503 over ${took.toLocaleString('en-US')} ms`,
    });
    this.#shed = 0;
  }
}
