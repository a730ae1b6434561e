import { describeCause, NotLeader } from '../errors.js';
import type { LogLine } from '../log-line.js';

/** A step as journaled, for failovers and switchovers alike. */
export interface RunStep {
  readonly name: string;
  /** When it ended (absent from switchovers journaled before it was kept). */
  readonly at?: string;
  /** From the end of the previous step, on the monotonic clock: a clock step does not make a step last -3 s. */
  readonly ms: number;
  readonly detail: string;
  /** It ran but did not do all it should (a replica not repointed): the operation went on, a human must look. */
  readonly failed?: boolean;
}

/**
 * One runner for the steps of failovers and switchovers, so both are timed, journaled and told
 * alike ("failover c1: promoted in 12 ms: …"), and both treat a lost leadership the same way:
 * never as a failed step, since the next leader takes the journal forward.
 */
export class StepRunner<Step extends RunStep> {
  readonly #what: string;
  readonly #log: (line: LogLine) => void;
  readonly #now: () => Date;
  #steps: readonly Step[];
  #mark = performance.now();

  /** `what`: the operation and its cluster, as the log line starts ("switchover c1"). */
  constructor(what: string, log: (line: LogLine) => void, now: () => Date, steps: readonly Step[] = []) {
    this.#what = what;
    this.#log = log;
    this.#now = now;
    this.#steps = steps;
  }

  get steps(): readonly Step[] {
    return this.#steps;
  }

  /** Records the step that just ended; `warn` for the ones an operator should read even when all went well. */
  done(name: Step['name'], detail: string, opts: { readonly failed?: boolean; readonly warn?: boolean } = {}): void {
    const ms = Math.round(performance.now() - this.#mark);
    const failed = opts.failed === true;
    // Every step type is this shape with its own names: the cast only narrows `name`.
    const step = { name, at: this.#now().toISOString(), ms, detail, ...(failed ? { failed } : {}) } as Step;
    this.#steps = [...this.#steps, step];
    const level = failed || opts.warn ? 'warn' : 'info';
    this.#log({ level, message: `${this.#what}: ${name}${failed ? ' FAILED' : ''} in ${ms} ms: ${detail}` });
    this.#mark = performance.now();
  }

  /** A step found wanting after it was recorded (a repointed replica that never ran on the new master). */
  failLater(name: Step['name'], why: string): void {
    this.#steps = this.#steps.map((s) => (s.name === name ? { ...s, failed: true, detail: `${s.detail}; then: ${why}` } : s));
    this.#log({ level: 'warn', message: `${this.#what}: ${name} FAILED: ${why}` });
  }

  /** Runs the steps in `body`; any error but a lost leadership is handed to `onFailure` with its sentence. */
  async run<T>(body: () => Promise<T>, onFailure: (error: string) => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof NotLeader) throw error;
      return onFailure(describeCause(error));
    }
  }
}
