import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type AgentReport, type Mapping, mappingEntries } from '@pullover/protocol';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff.js';
import type { ControllerClient } from './client.js';
import type { AgentConfig } from './config.js';
import { MappingRefusedError, RollbackRefusedError } from './errors.js';
import { planHostsFile, SHADOW_PREFIX } from './hosts/block.js';
import { readHostsFile, writeHostsFile } from './hosts/write.js';
import { runOnChange } from './on-change.js';
import { probeGreeting } from './probe.js';
import { type AgentState, appliedVersion, type StateFile } from './state.js';
import { watchHostsFile } from './watcher.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentDeps {
  config: AgentConfig;
  clients: readonly ControllerClient[];
  stateFile: StateFile;
  logger: Logger;
}

/** What one apply did, for the caller and the tests. */
export interface ApplyOutcome {
  version: number;
  written: boolean;
  method?: 'rename' | 'in-place';
}

/**
 * The agent: long-polls the controllers, keeps its block in the hosts file equal to the newest
 * mapping it has accepted, and reports what the file holds. Every change of the file goes
 * through one queue so that a poll answer and a drift repair never interleave their writes.
 */
export class PulloverAgent extends EventEmitter<{ applied: [ApplyOutcome] }> {
  private state!: AgentState;
  /** The version whose block is in the file now; lags the state while a write keeps failing. */
  private fileVersion = 0;
  private fileError: string | undefined;
  /** The block as last written or checked, and its hash: reports need not read the file again. */
  private fileBlock = '';
  private fileBlockHash = sha256('');
  private queue: Promise<unknown> = Promise.resolve();
  private current = 0;
  private readonly stop = new AbortController();
  private closers: Array<() => Promise<void> | void> = [];
  /** A full report goes out before the next poll: at start, after each empty hold, after trouble. */
  private reportDue = true;

  constructor(private readonly deps: AgentDeps) {
    super();
  }

  get appliedVersion(): number {
    return this.fileVersion;
  }

  private get log(): Logger {
    return this.deps.logger;
  }

  /** Loads the persisted state and repairs the block from it before any controller answers. */
  async init(): Promise<void> {
    this.state = await this.deps.stateFile.load();
    if (this.state.mapping) await this.reconcile('start');
  }

  /** Runs until close(): long-poll loop, drift watcher, periodic file check. */
  async run(): Promise<void> {
    const { config } = this.deps;
    if (config.watch) {
      const watcher = await watchHostsFile(config.hosts_file, () => void this.reconcile('drift'));
      this.closers.push(() => watcher.close());
    }
    // Also on a timer: a watcher can miss events (NFS, overlay filesystems, a full inotify table).
    const timer = setInterval(() => void this.reconcile('periodic'), config.check_interval);
    this.closers.push(() => clearInterval(timer));
    await this.pollLoop();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled(this.closers.map((close) => close()));
    await this.queue.catch(() => undefined);
    await Promise.allSettled(this.deps.clients.map((client) => client.close()));
  }

  /** One fetch from the first controller that answers, applied. Used by `sync` and by run's loop. */
  async syncOnce(waitMs = 0): Promise<Mapping> {
    let lastError: unknown;
    for (const [index, client] of this.deps.clients.entries()) {
      try {
        const mapping = await client.fetchMapping(0, waitMs, this.stop.signal);
        if (!mapping) throw new MappingRefusedError(client.url, 'no mapping in the answer');
        this.current = index;
        await this.apply(mapping, client.url);
        return mapping;
      } catch (err) {
        lastError = err;
        this.log.warn({ controller: client.url, err: (err as Error).message }, (err as Error).message);
      }
    }
    throw lastError;
  }

  /**
   * Report and long-poll take turns on one connection per controller: 10,000 agents then cost
   * the controller 10,000 sockets, not twice that. Each poll acknowledges what the file holds, so
   * a change is confirmed by the poll that parks again; the full report (with the greeting probe
   * of each master) goes out at start, after every empty hold, and after any trouble.
   */
  private async pollLoop(): Promise<void> {
    const { config, clients } = this.deps;
    let failures = 0;
    while (!this.stop.signal.aborted) {
      const client = clients[this.current] as ControllerClient;
      try {
        if (this.reportDue) {
          await client.report(config.name, await this.buildReport(), this.stop.signal);
          this.reportDue = false;
        }
        // The floor is what the controller must exceed. The ack claims it only while the file
        // holds it; after a failed write the full report says what is wrong instead.
        const floor = appliedVersion(this.state);
        const ack =
          this.fileVersion === floor ? { agent: config.name, block: this.fileBlockHash } : undefined;
        const mapping = await client.fetchMapping(floor, config.wait, this.stop.signal, ack);
        if (failures > 0) this.log.info({ controller: client.url }, `controller ${client.url} answers again`);
        failures = 0;
        if (mapping) await this.apply(mapping, client.url);
        else this.reportDue = true;
      } catch (err) {
        if (this.stop.signal.aborted) break;
        failures += 1;
        // Fail-static: the file keeps the last good mapping; only the next controller is tried.
        this.current = (this.current + 1) % clients.length;
        this.reportDue = true;
        const delay = backoffDelay(failures, config.backoff.min, config.backoff.max);
        const level =
          err instanceof MappingRefusedError || err instanceof RollbackRefusedError ? 'error' : 'warn';
        this.log[level](
          { controller: client.url, code: (err as { code?: string }).code, retry_ms: delay },
          `${(err as Error).message}; keeping the hosts file as it is, retry in ${delay} ms`,
        );
        await sleep(delay, this.stop.signal);
      }
    }
  }

  /** Accepts a mapping (anti-rollback), writes the block, persists, runs on_change, reports. */
  apply(mapping: Mapping, source: string): Promise<ApplyOutcome> {
    return this.serialize(async () => {
      const floor = appliedVersion(this.state);
      if (mapping.version < floor) throw new RollbackRefusedError(mapping.version, floor);
      if (mapping.version === floor && !sameEntries(mapping, this.state.mapping)) {
        throw new RollbackRefusedError(
          mapping.version,
          floor,
          `version ${mapping.version} with other entries than the ones applied`,
        );
      }
      const previous = this.state;
      // State first: a crash before the file write is repaired from it at the next start,
      // while the other order would restore the old address after a restart.
      const next: AgentState = { mapping, applied_at: new Date().toISOString(), controller: source };
      if (mapping.version !== floor) await this.deps.stateFile.save(next);
      this.state = next;
      const outcome = await this.writeBlock(mapping, 'apply');
      if (mapping.version !== floor) {
        this.log.info(
          {
            version: mapping.version,
            previous_version: appliedVersion(previous),
            controller: source,
            written: outcome.written,
          },
          `applied version ${mapping.version}: ${describe(mapping)}${outcome.written ? ` (${this.deps.config.hosts_file} rewritten by ${outcome.method})` : ' (file already right)'}`,
        );
        this.emit('applied', outcome);
      }
      return outcome;
    });
  }

  /** Restores the block if something else rewrote the file. */
  reconcile(why: 'start' | 'drift' | 'periodic'): Promise<ApplyOutcome | undefined> {
    return this.serialize(async () => {
      const mapping = this.state.mapping;
      if (!mapping) return undefined;
      const outcome = await this.writeBlock(mapping, why).catch((err: Error) => {
        this.log.error({ err: err.message }, err.message);
        return undefined;
      });
      if (outcome?.written && why !== 'start') {
        this.log.warn(
          { version: mapping.version, hosts_file: this.deps.config.hosts_file },
          `${this.deps.config.hosts_file} was rewritten by something else; restored the pullover block (version ${mapping.version})`,
        );
        this.reportDue = true;
      }
      return outcome;
    });
  }

  private async writeBlock(mapping: Mapping, why: string): Promise<ApplyOutcome> {
    const { config } = this.deps;
    try {
      const current = await readHostsFile(config.hosts_file);
      const plan = planHostsFile(current, mappingEntries(mapping));
      // Logged once, when the line gets commented out, not at every check of the file.
      const alreadyOff = new Set(current.split('\n').map((l) => l.replace(/\r$/, '')));
      for (const line of plan.shadowed.filter((l) => !alreadyOff.has(`${SHADOW_PREFIX}${l.text}`))) {
        this.log.warn(
          { hosts_file: config.hosts_file, line: line.line },
          `${config.hosts_file}:${line.line} "${line.text.trim()}" would shadow ${line.names.join(', ')}: commented out (pullover-agent uninstall restores it)`,
        );
      }
      if (!plan.changed) {
        this.fileIsAt(mapping.version, plan.block);
        return { version: mapping.version, written: false };
      }
      const result = await writeHostsFile(config.hosts_file, plan.content);
      if (result.method === 'in-place') {
        this.log.warn(
          { hosts_file: config.hosts_file },
          `rewrote ${config.hosts_file} in place: ${result.reason ?? ''}`,
        );
      }
      this.fileIsAt(mapping.version, plan.block);
      if (why !== 'start' && config.on_change) await runOnChange(config.on_change, mapping, this.log);
      return { version: mapping.version, written: true, method: result.method };
    } catch (err) {
      this.fileError = (err as Error).message;
      this.reportDue = true;
      throw err;
    }
  }

  /** What the file holds now, as reports tell it: every write and check goes through here. */
  private fileIsAt(version: number, block: string): void {
    this.fileVersion = version;
    this.fileError = undefined;
    if (block !== this.fileBlock) {
      this.fileBlock = block;
      this.fileBlockHash = sha256(block);
    }
  }

  /** Tells the controller that answered last what the file holds and whether each master answers from here. */
  async report(): Promise<void> {
    const client = this.deps.clients[this.current] as ControllerClient;
    await client.report(this.deps.config.name, await this.buildReport(), this.stop.signal);
  }

  async buildReport(): Promise<AgentReport> {
    const { config } = this.deps;
    const clusters = this.state.mapping?.clusters ?? [];
    const masters = await Promise.all(
      clusters.flatMap((cluster) => {
        const entry = cluster.entries[0];
        if (!entry) return [];
        return [
          probeGreeting(entry.address, cluster.port, config.probe_timeout).then((probe) => ({
            cluster: cluster.name,
            address: entry.address,
            port: cluster.port,
            reachable: probe.reachable,
            detail: probe.detail,
            checked_at: new Date().toISOString(),
          })),
        ];
      }),
    );
    return {
      applied_version: this.fileVersion,
      block_hash: this.fileBlockHash,
      hosts_file: config.hosts_file,
      masters,
      ...(this.fileError ? { error: this.fileError.slice(0, 1000) } : {}),
      agent_version: AGENT_VERSION,
    };
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sameEntries(a: Mapping, b: Mapping | null): boolean {
  return b !== null && JSON.stringify(mappingEntries(a)) === JSON.stringify(mappingEntries(b));
}

function describe(mapping: Mapping): string {
  return mapping.clusters
    .map(
      (c) =>
        `${c.entries.map((e) => `${e.hostname} → ${e.address}`).join(', ')} (${c.name} master ${c.master})`,
    )
    .join('; ');
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
