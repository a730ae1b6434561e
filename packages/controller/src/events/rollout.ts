import type { LogLine } from '../log-line.js';

/** Agents named in a line; the others are counted (each one is in the debug log). */
export const NAMES_LISTED = 10;

/** 12345 → "12,345": fleet figures are read at a glance. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "app17, app4410" or "app1, …, app10 and 95 more". */
export function someNames(names: readonly string[], total = names.length): string {
  const listed = names.slice(0, NAMES_LISTED).join(', ');
  return total > NAMES_LISTED ? `${listed} and ${count(total - NAMES_LISTED)} more` : listed;
}

/**
 * One published version making its way to the live agents: "has every app server switched?" as
 * one sentence, when the last one has, or when the time is up (or a newer version came first).
 */
export class Rollout {
  readonly version: number;
  readonly #started: number;
  readonly #behind: Set<string>;
  readonly #total: number;
  #applied = 0;
  #answeredMs: number | undefined;

  /** `behind`: the live agents whose file did not hold `version` yet when it was published. */
  constructor(version: number, behind: Iterable<string>, total: number, startedMs: number) {
    this.version = version;
    this.#behind = new Set(behind);
    this.#total = total;
    this.#applied = total - this.#behind.size;
    this.#started = startedMs;
  }

  get done(): boolean {
    return this.#behind.size === 0;
  }

  /** The publisher had answered every poll parked at the publish, `ms` after it. */
  answered(ms: number): void {
    this.#answeredMs = ms;
  }

  /** An agent's file holds `version` now; the line once the last one's does. */
  heard(name: string, version: number, nowMs: number): LogLine | undefined {
    if (version < this.version || !this.#behind.delete(name)) return undefined;
    this.#applied++;
    return this.done ? this.#line('info', nowMs, '') : undefined;
  }

  /** The line when the rollout is cut short: `why` is "within 60 s" or "before version 8 was published". */
  cut(why: string, nowMs: number): LogLine {
    return this.#line('warn', nowMs, why);
  }

  #line(level: LogLine['level'], nowMs: number, why: string): LogLine {
    const agents = this.#total === 1 ? 'agent' : 'agents';
    const took = why || `in ${count(Math.round(nowMs - this.#started))} ms`;
    const answered =
      this.#answeredMs === undefined ? '' : ` (the parked polls had their answer within ${count(this.#answeredMs)} ms)`;
    const behind = this.done ? '' : `; behind: ${someNames([...this.#behind].sort(), this.#behind.size)}`;
    return {
      level,
      message: `${count(this.#applied)} of ${count(this.#total)} ${agents} applied version ${this.version} ${took}${answered}${behind}`,
    };
  }
}
