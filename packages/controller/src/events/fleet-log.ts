import type { AgentRegistry } from '../agents/registry.js';
import type { LogLine } from '../log-line.js';
import type { LogSink } from '../log-sink.js';
import type { PublishListener } from '../mapping/publisher.js';
import { count, Rollout, someNames } from './rollout.js';

export interface FleetLogTimes {
  /** Lines of one kind after the first are gathered this long into one line. */
  readonly windowMs: number;
  /** How long a published version is followed before the agents still behind are named. */
  readonly rolloutMs: number;
}

const TIMES: FleetLogTimes = { windowMs: 1000, rolloutMs: 60_000 };

/** Lines of one kind (same level, same `about`) since the first of them went out on its own. */
interface Gathering {
  readonly level: LogLine['level'];
  readonly about: string;
  names: string[];
  /** The only line gathered so far: it goes out as it is if no other joins it. */
  only: LogLine | undefined;
  timer: NodeJS.Timeout;
}

/**
 * The log of what agents do, sized for a fleet: 10,000 agents applying a version are one line at
 * info ("9,998 of 10,000 agents applied version 7 in 812 ms; behind: app17, app4410"), not 10,000.
 * Every per-agent line is kept at debug. Other per-agent lines (first reports, a master out of
 * reach, a hosts file that cannot be written) go out on their own when they are rare: the first of
 * a kind at once, those that follow within a second as one line naming a few of them.
 */
export class FleetLog implements PublishListener {
  readonly #sink: LogSink;
  readonly #registry: AgentRegistry;
  readonly #now: () => Date;
  readonly #times: FleetLogTimes;
  readonly #gatherings = new Map<string, Gathering>();
  readonly #unabsorb: () => void;
  #rollout: { readonly rollout: Rollout; readonly timer: NodeJS.Timeout } | undefined;

  constructor(sink: LogSink, registry: AgentRegistry, now: () => Date, times = TIMES) {
    this.#sink = sink;
    this.#registry = registry;
    this.#now = now;
    this.#times = times;
    // On etcd, the agents other controllers heard apply versions too: the rollout counts them.
    this.#unabsorb = registry.onAbsorbed((record) => this.heard(record.name, record.report.applied_version, []));
  }

  /** What an agent's report or acknowledgement changed (the registry's sentences), and the version its file holds. */
  heard(name: string, appliedVersion: number, lines: readonly LogLine[]): void {
    const current = this.#rollout?.rollout;
    if (lines.length === 0 && !current) return;
    for (const line of lines) {
      const agent = line.agent;
      if (!agent) this.#sink.say(line);
      // The rollout's own line says it for all of them.
      else if (current && agent.applied !== undefined && agent.applied >= current.version) this.#debug(line);
      else this.#gather(line, agent);
    }
    const done = current?.heard(name, appliedVersion, performance.now());
    if (done) this.#endRollout(done);
  }

  published(version: number): void {
    if (this.#rollout) this.#endRollout(this.#rollout.rollout.cut(`before version ${version} was published`, performance.now()));
    const live = this.#registry.live(this.#now());
    // Sorted: the rollout's line names the first few still behind.
    const behind = live.filter((a) => a.report.applied_version < version).map((a) => a.name).sort();
    if (behind.length === 0) return;
    const rollout = new Rollout(version, behind, live.length, performance.now());
    const { rolloutMs } = this.#times;
    const timer = setTimeout(() => this.#endRollout(rollout.cut(`within ${rolloutMs / 1000} s`, performance.now())), rolloutMs);
    timer.unref();
    this.#rollout = { rollout, timer };
  }

  answered(version: number, _count: number, ms: number): void {
    if (this.#rollout?.rollout.version === version) this.#rollout.rollout.answered(ms);
  }

  /** Says what is pending now: a closing controller keeps no line to itself. */
  close(): void {
    this.#unabsorb();
    for (const gathering of [...this.#gatherings.values()]) {
      clearTimeout(gathering.timer);
      this.#flush(gathering, false);
    }
    if (this.#rollout) clearTimeout(this.#rollout.timer);
    this.#rollout = undefined;
  }

  #endRollout(line: LogLine): void {
    if (this.#rollout) clearTimeout(this.#rollout.timer);
    this.#rollout = undefined;
    this.#sink.say(line);
  }

  #gather(line: LogLine, agent: NonNullable<LogLine['agent']>): void {
    const key = `${line.level} ${agent.about}`;
    const gathering = this.#gatherings.get(key);
    if (!gathering) {
      this.#sink.say(line);
      this.#gatherings.set(key, this.#open(key, line.level, agent.about));
      return;
    }
    this.#debug(line);
    gathering.only = gathering.names.length === 0 ? line : undefined;
    gathering.names.push(agent.name);
  }

  #open(key: string, level: LogLine['level'], about: string): Gathering {
    const gathering: Gathering = { level, about, names: [], only: undefined, timer: undefined as never };
    gathering.timer = setTimeout(() => {
      this.#gatherings.delete(key);
      // A herd that goes on (10,000 agents reporting after a restart) keeps being gathered.
      if (this.#flush(gathering, true)) this.#gatherings.set(key, this.#open(key, level, about));
    }, this.#times.windowMs);
    gathering.timer.unref();
    return gathering;
  }

  /** True when it said something. */
  #flush(gathering: Gathering, timely: boolean): boolean {
    const { names, only } = gathering;
    if (names.length === 0) return false;
    if (only) {
      // Said at debug already; a single follower is said as itself.
      this.#sink.say(only);
      return true;
    }
    const when = timely ? ` in the last ${this.#times.windowMs / 1000} s` : '';
    this.#sink.say({
      level: gathering.level,
      message: `${count(names.length)} more agents ${gathering.about}${when}: ${someNames(names)}`,
    });
    return true;
  }

  #debug(line: LogLine): void {
    this.#sink.logger.debug({ agent: line.agent?.name }, line.message);
  }
}
