import { EventEmitter } from 'node:events';
import type { AgentReport, Mapping } from '@pullover/protocol';
import type { Logger } from 'pino';
import { type ApplyOutcome, MappingApplier } from './applier.js';
import { retryAfterDelay, spreadDelay } from './backoff.js';
import type { ControllerClient } from './client.js';
import type { AgentConfig } from './config.js';
import { ControllerUnavailableError, MappingRefusedError, RollbackRefusedError } from './errors.js';
import { buildReport } from './report.js';
import { rankControllers, Rotation, verdictOf } from './rotation.js';
import type { StateFile } from './state.js';
import { watchHostsFile } from './watcher.js';

export type { ApplyOutcome } from './applier.js';

export interface AgentDeps {
  config: AgentConfig;
  clients: readonly ControllerClient[];
  stateFile: StateFile;
  logger: Logger;
}

/**
 * The agent: long-polls the controllers, has the applier keep its block in the hosts file equal to
 * the newest mapping accepted, and reports what the file holds.
 */
export class PulloverAgent extends EventEmitter<{ applied: [ApplyOutcome] }> {
  readonly #deps: AgentDeps;
  readonly #applier: MappingApplier;
  /** The controller polled and reported to: this agent's own first, the next after a failure. */
  readonly #rotation: Rotation<ControllerClient>;
  readonly #stop = new AbortController();
  #closers: Array<() => Promise<void> | void> = [];
  /** A full report goes out before the next poll: at start, after each empty hold, after trouble. */
  #reportDue = true;
  /** Not before then (epoch ms): an overloaded controller shed the last one and said when to come back. */
  #reportAt = 0;

  constructor(deps: AgentDeps) {
    super();
    this.#deps = deps;
    this.#rotation = new Rotation(rankControllers(deps.config.name, deps.clients), deps.config.backoff);
    this.#applier = new MappingApplier({
      config: deps.config,
      stateFile: deps.stateFile,
      logger: deps.logger,
      onApplied: (outcome) => this.emit('applied', outcome),
      onTrouble: () => {
        this.#reportDue = true;
      },
    });
  }

  /** The version whose block is in the hosts file now. */
  get appliedVersion(): number {
    return this.#applier.file.version;
  }

  /** Loads the persisted state and repairs the block from it before any controller answers. */
  init(): Promise<void> {
    return this.#applier.init();
  }

  /** Runs until close(): long-poll loop, drift watcher, periodic file check. */
  async run(): Promise<void> {
    const { config } = this.#deps;
    if (config.watch) {
      const watcher = await watchHostsFile(config.hosts_file, () => void this.reconcile('drift'));
      this.#closers.push(() => watcher.close());
    }
    // Also on a timer: a watcher can miss events (NFS, overlay filesystems, a full inotify table).
    const timer = setInterval(() => void this.reconcile('periodic'), config.check_interval);
    this.#closers.push(() => clearInterval(timer));
    await this.#pollLoop();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.#closers.map((close) => close()));
    await this.#applier.settled();
    await Promise.allSettled(this.#deps.clients.map((client) => client.close()));
  }

  /** Accepts a mapping (anti-rollback), writes the block, persists, runs on_change. */
  apply(mapping: Mapping, source: string): Promise<ApplyOutcome> {
    return this.#applier.apply(mapping, source);
  }

  /** Restores the block if something else rewrote the file. */
  reconcile(why: 'start' | 'drift' | 'periodic'): Promise<ApplyOutcome | undefined> {
    return this.#applier.reconcile(why);
  }

  /** The controller this agent polls and reports to now. */
  get controller(): string {
    return this.#rotation.current.url;
  }

  /** One fetch from the first controller that answers (this agent's own first), applied. Used by `sync`. */
  async syncOnce(waitMs = 0): Promise<Mapping> {
    let lastError: unknown;
    for (const client of this.#rotation.fromCurrent) {
      try {
        const mapping = await client.fetchMapping(0, waitMs, this.#stop.signal);
        if (!mapping) throw new MappingRefusedError(client.url, 'no mapping in the answer');
        this.#rotation.settle(client);
        await this.apply(mapping, client.url);
        return mapping;
      } catch (error) {
        lastError = error;
        this.#deps.logger.warn({ controller: client.url, err: (error as Error).message }, (error as Error).message);
      }
    }
    throw lastError;
  }

  /** Tells the controller this agent polls what the file holds and whether each master answers from here. */
  async report(): Promise<void> {
    await this.#rotation.current.report(this.#deps.config.name, await this.buildReport(), this.#stop.signal);
  }

  buildReport(): Promise<AgentReport> {
    return buildReport(this.#deps.config, this.#applier.mapping, this.#applier.file);
  }

  /**
   * Report and long-poll take turns on one connection per controller: 10,000 agents then cost
   * the controller 10,000 sockets, not twice that. Each poll acknowledges what the file holds, so
   * a change is confirmed by the poll that parks again; the full report (with the greeting probe
   * of each master) goes out at start, after every empty hold, and after any trouble.
   */
  async #pollLoop(): Promise<void> {
    const { config, logger } = this.#deps;
    // A fleet started at once (a rack powered on, a config management run) must not arrive at once.
    await sleep(spreadDelay(config.backoff.min), this.#stop.signal);
    while (!this.#stop.signal.aborted) {
      const client = this.#rotation.current;
      try {
        if (this.#reportDue && Date.now() >= this.#reportAt) await this.#reportOrPutOff(client);
        // The floor is what the controller must exceed. The ack claims it only while the file
        // holds it; after a failed write the full report says what is wrong instead.
        const floor = this.#applier.floor;
        const file = this.#applier.file;
        const ack = file.version === floor ? { agent: config.name, block: file.blockHash } : undefined;
        // A report put off ends the hold early: the poll parks until the report may go.
        const wait = this.#reportDue ? Math.min(config.wait, Math.max(0, this.#reportAt - Date.now())) : config.wait;
        const mapping = await client.fetchMapping(floor, wait, this.#stop.signal, ack);
        if (this.#rotation.answered()) logger.info({ controller: client.url }, `controller ${client.url} answers`);
        if (mapping) await this.apply(mapping, client.url);
        else this.#reportDue = true;
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        // Fail-static: the file keeps the last good mapping; only the next controller is tried.
        const delay = this.#rotation.failed(error);
        const next = this.#rotation.current;
        this.#reportDue = true;
        const level = error instanceof MappingRefusedError || error instanceof RollbackRefusedError ? 'error' : 'warn';
        const then = next === client ? `retry in ${delay} ms` : `asking ${next.url} ${delay > 0 ? `in ${delay} ms` : 'now'}`;
        logger[level](
          { controller: client.url, code: (error as { code?: string }).code, retry_ms: delay, next: next.url },
          `${(error as Error).message}; keeping the hosts file as it is, ${then}`,
        );
        await sleep(delay, this.#stop.signal);
      }
    }
  }

  /**
   * An overloaded controller answers a report 503 with Retry-After: the agent polls at once all
   * the same (a poll is never shed, so a newer version still reaches it) and reports later.
   */
  async #reportOrPutOff(client: ControllerClient): Promise<void> {
    try {
      await client.report(this.#deps.config.name, await this.buildReport(), this.#stop.signal);
      this.#reportDue = false;
    } catch (error) {
      // Any other refusal moves the agent, its reports and its poll, to the next controller.
      const retryAfter = error instanceof ControllerUnavailableError ? error.retryAfterMs : undefined;
      if (verdictOf(error) !== 'overloaded' || retryAfter === undefined) throw error;
      const delay = retryAfterDelay(retryAfter);
      this.#reportAt = Date.now() + delay;
      this.#deps.logger.info(
        { controller: client.url, retry_ms: delay },
        `${(error as Error).message}; polling meanwhile, report in ${delay} ms`,
      );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
