import { createHash } from 'node:crypto';
import { type Mapping, mappingEntries } from '@pullover/protocol';
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';
import { RollbackRefusedError, VersionConflictError } from './errors.js';
import { planHostsFile, SHADOW_PREFIX } from './hosts/block.js';
import { readHostsFile, writeHostsFile } from './hosts/write.js';
import { runOnChange } from './on-change.js';
import { type AgentState, appliedVersion, EMPTY_STATE, type StateFile } from './state.js';

/** What one apply did, for the caller and the tests. */
export interface ApplyOutcome {
  version: number;
  written: boolean;
  method?: 'rename' | 'in-place';
}

/** What the hosts file holds now, as reports tell it. */
export interface FileStatus {
  /** The version whose block is in the file; lags the state while a write keeps failing. */
  readonly version: number;
  /** sha256 of the block as last written or checked: reports need not read the file again. */
  readonly blockHash: string;
  /** Why the last write or check failed, until one succeeds. */
  readonly error: string | undefined;
}

export interface ApplierDeps {
  config: AgentConfig;
  stateFile: StateFile;
  logger: Logger;
  /** A version newly in the file. */
  onApplied: (outcome: ApplyOutcome) => void;
  /** The controller should hear of it at once: a failed write, or a block something else removed. */
  onTrouble: () => void;
}

/**
 * Keeps the agent's block in the hosts file equal to the newest mapping it has accepted, the
 * accepted one persisted first. Every change of the file goes through one queue so that a poll
 * answer and a drift repair never interleave their writes.
 */
export class MappingApplier {
  readonly #deps: ApplierDeps;
  #state: AgentState = EMPTY_STATE;
  #fileVersion = 0;
  #fileError: string | undefined;
  #fileBlock = '';
  #fileBlockHash = sha256('');
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: ApplierDeps) {
    this.#deps = deps;
  }

  /** The newest mapping accepted, or null before the first. */
  get mapping(): Mapping | null {
    return this.#state.mapping;
  }

  /** The anti-rollback floor: a controller must offer more than this. */
  get floor(): number {
    return appliedVersion(this.#state);
  }

  get file(): FileStatus {
    return { version: this.#fileVersion, blockHash: this.#fileBlockHash, error: this.#fileError };
  }

  /** Loads the persisted state and repairs the block from it before any controller answers. */
  async init(): Promise<void> {
    this.#state = await this.#deps.stateFile.load();
    if (this.#state.mapping) await this.reconcile('start');
  }

  /**
   * Accepts a mapping (anti-rollback), persists it, writes the block, runs on_change. Versions are
   * committed once, in order, whoever leads: the floor holds whichever controller offers a mapping,
   * and across restarts (it is persisted before the file is written).
   */
  apply(mapping: Mapping, source: string): Promise<ApplyOutcome> {
    return this.#serialize(async () => {
      const floor = this.floor;
      const applied = this.#state.mapping;
      if (mapping.version < floor) throw new RollbackRefusedError(mapping.version, floor);
      if (mapping.version === floor && applied && !sameCommit(mapping, applied)) {
        throw new VersionConflictError(floor, from(mapping, source), from(applied, this.#state.controller));
      }
      // State first: a crash before the file write is repaired from it at the next start,
      // while the other order would restore the old address after a restart.
      // The same commit again (a sync) only repairs the block: the state keeps where it came from first.
      if (mapping.version !== floor) {
        const next: AgentState = { mapping, applied_at: new Date().toISOString(), controller: source };
        await this.#deps.stateFile.save(next);
        this.#state = next;
      }
      const outcome = await this.#writeBlock(mapping, 'apply');
      if (mapping.version !== floor) {
        // Formatted only when it goes anywhere: the fan-out bench runs thousands of agents at warn.
        if (this.#deps.logger.isLevelEnabled('info')) {
          const file = this.#deps.config.hosts_file;
          this.#deps.logger.info(
            {
              version: mapping.version,
              term: mapping.term,
              previous_version: floor,
              controller: source,
              written: outcome.written,
            },
            `applied version ${mapping.version} ${from(mapping, source)}: ${describe(mapping)}${outcome.written ? ` (${file} rewritten by ${outcome.method})` : ' (file already right)'}`,
          );
        }
        this.#deps.onApplied(outcome);
      }
      return outcome;
    });
  }

  /** Restores the block if something else rewrote the file. */
  reconcile(why: 'start' | 'drift' | 'periodic'): Promise<ApplyOutcome | undefined> {
    return this.#serialize(async () => {
      const mapping = this.#state.mapping;
      if (!mapping) return undefined;
      const outcome = await this.#writeBlock(mapping, why).catch((error: Error) => {
        this.#deps.logger.error({ err: error.message }, error.message);
        return undefined;
      });
      if (outcome?.written && why !== 'start') {
        const file = this.#deps.config.hosts_file;
        this.#deps.logger.warn(
          { version: mapping.version, hosts_file: file },
          `${file} was rewritten by something else; restored the pullover block (version ${mapping.version})`,
        );
        this.#deps.onTrouble();
      }
      return outcome;
    });
  }

  async #writeBlock(mapping: Mapping, why: string): Promise<ApplyOutcome> {
    const { config, logger } = this.#deps;
    try {
      const current = await readHostsFile(config.hosts_file);
      const plan = planHostsFile(current, mappingEntries(mapping));
      // Logged once, when the line gets commented out, not at every check of the file.
      const alreadyOff = plan.shadowed.length === 0 ? new Set() : new Set(current.split('\n').map((l) => l.replace(/\r$/, '')));
      for (const line of plan.shadowed.filter((l) => !alreadyOff.has(`${SHADOW_PREFIX}${l.text}`))) {
        logger.warn(
          { hosts_file: config.hosts_file, line: line.line },
          `${config.hosts_file}:${line.line} "${line.text.trim()}" would shadow ${line.names.join(', ')}: commented out (pullover-agent uninstall restores it)`,
        );
      }
      if (!plan.changed) {
        this.#fileIsAt(mapping.version, plan.block);
        return { version: mapping.version, written: false };
      }
      const result = await writeHostsFile(config.hosts_file, plan.content);
      if (result.method === 'in-place') {
        logger.warn({ hosts_file: config.hosts_file }, `rewrote ${config.hosts_file} in place: ${result.reason}`);
      }
      this.#fileIsAt(mapping.version, plan.block);
      if (why !== 'start' && config.on_change) await runOnChange(config.on_change, mapping, logger);
      return { version: mapping.version, written: true, method: result.method };
    } catch (error) {
      this.#fileError = (error as Error).message;
      this.#deps.onTrouble();
      throw error;
    }
  }

  /** Every write and check of the file goes through here. */
  #fileIsAt(version: number, block: string): void {
    this.#fileVersion = version;
    this.#fileError = undefined;
    if (block !== this.#fileBlock) {
      this.#fileBlock = block;
      this.#fileBlockHash = sha256(block);
    }
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(task, task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves once the change under way, if any, is done. */
  async settled(): Promise<void> {
    await this.#queue;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The same commit of one version: the same entries, and the same term where both name one. A term
 * of 0 or none is one controller's (or a version from before etcd, migrated): it conflicts with no term.
 */
function sameCommit(a: Mapping, b: Mapping): boolean {
  const termsDiffer = Boolean(a.term) && Boolean(b.term) && a.term !== b.term;
  return !termsDiffer && JSON.stringify(mappingEntries(a)) === JSON.stringify(mappingEntries(b));
}

/** "(term 1234) from https://c2:7420", or "from https://c2:7420" for one controller's mapping. */
function from(mapping: Mapping, controller: string): string {
  return `${mapping.term ? `(term ${mapping.term}) ` : ''}from ${controller}`;
}

function describe(mapping: Mapping): string {
  return mapping.clusters
    .map((c) => `${c.entries.map((e) => `${e.hostname} → ${e.address}`).join(', ')} (${c.name} master ${c.master})`)
    .join('; ');
}
