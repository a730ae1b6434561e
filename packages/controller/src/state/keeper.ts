import { type FailoverRecord, Mapping, type SetMasterResponse } from '@pullover/protocol';
import type { ClusterConfig, ControllerConfig, ServerConfig } from '../config/load.js';
import { clusterNamed, serverNamed } from '../config/lookup.js';
import { describeCause, NotEligible, NotLeader, StateWriteError } from '../errors.js';
import { mappingOf } from '../mapping/build.js';
import type { MappingPublisher } from '../mapping/publisher.js';
import { describeTarget, publishedCluster } from './published.js';
import {
  type ClusterFailoverState,
  type ControllerState,
  type HistoryEntry,
  type RunningFailover,
  type RunningSwitchover,
  SWITCHOVER_LIMIT,
  type SwitchoverRecord,
} from './schema.js';
import type { Store } from './store.js';
import type { Authority } from '../ha/authority.js';
import {
  type FailoverChange,
  failoverStateOf,
  filedFailover,
  movedMaster,
  withFailover,
  withoutFencedMasters,
} from './transitions.js';

export interface SetMasterOutcome {
  readonly response: SetMasterResponse;
  /** The sentence to log, or undefined when nothing changed. */
  readonly sentence: string | undefined;
}

/**
 * The only writer of the controller state. Every change is saved durably before it is published:
 * a controller that crashed after publishing an unsaved version would come back at the old version
 * and strand every agent that applied the newer one. Changes run one at a time, each on the last.
 */
export class StateKeeper {
  #state: ControllerState;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: ControllerConfig,
    private readonly store: Store,
    private readonly publisher: MappingPublisher,
    state: ControllerState,
    private readonly now: () => Date = () => new Date(),
    /** On etcd: the term stamped on each version committed. */
    private readonly authority?: Authority,
  ) {
    // A state written before the rule (a failed failover left its old master on the list) is read by it.
    this.#state = withoutFencedMasters(state);
  }

  get state(): ControllerState {
    return this.#state;
  }

  cluster(name: string): ClusterConfig {
    return clusterNamed(this.config, name);
  }

  server(cluster: ClusterConfig, name: string): ServerConfig {
    return serverNamed(cluster, name);
  }

  failoverState(cluster: string): ClusterFailoverState {
    return failoverStateOf(this.#state, cluster);
  }

  /**
   * The servers to keep read-only now: former masters, and the old master of a failover under way
   * (still the mapping's master until the new one is published). Never the master otherwise: the
   * fencer would undo an operator's read_only=OFF on it within a second.
   */
  fencedServers(cluster: string): string[] {
    const { fenced, running } = this.failoverState(cluster);
    return running ? [...new Set([...fenced, running.record.old_master])] : [...fenced];
  }

  /** When the post-failover block on automatic failover ends, or undefined when none is in force at `now`. */
  blockedUntil(cluster: string, now: Date): Date | undefined {
    const until = this.failoverState(cluster).blocked_until;
    return until !== null && Date.parse(until) > now.getTime() ? new Date(until) : undefined;
  }

  /** The operator's maintenance pause in force at `now`, if any. */
  pausedUntil(cluster: string, now: Date): { until: Date; reason: string | null } | undefined {
    const paused = this.failoverState(cluster).paused;
    return paused && Date.parse(paused.until) > now.getTime()
      ? { until: new Date(paused.until), reason: paused.reason }
      : undefined;
  }

  /** Points the cluster's hostnames at `server`; MySQL is not touched. */
  setMaster(cluster: string, server: string, reason?: string): Promise<SetMasterOutcome> {
    return this.#serialize(async () => {
      const config = this.cluster(cluster);
      const target = this.server(config, server);
      const previous = this.#master(config.name);
      const response = { cluster: config.name, previous_master: previous, master: target.name };
      if (previous === target.name) {
        return { response: { ...response, version: this.#state.version, changed: false }, sentence: undefined };
      }
      if (target.no_master) throw new NotEligible(config.name, target.name);
      const detail = `set-master ${config.name}: ${describeTarget(publishedCluster(config, target))}`;
      const version = await this.#moveMaster(config, target, 'set-master', detail, reason, (f) => ({
        ...f,
        // The operator says this one is the master now: keeping it fenced would make it read-only.
        fenced: f.fenced.filter((n) => n !== target.name),
      }));
      return {
        response: { ...response, version, changed: true },
        sentence: `${detail}, version ${version}${reason ? ` (reason: ${reason})` : ''}`,
      };
    });
  }

  /** Journals a failover before its first action; its old master is fenced while it runs (fencedServers). */
  beginFailover(cluster: string, running: RunningFailover): Promise<void> {
    return this.#serialize(() => this.#updateFailover(cluster, (f) => ({ ...f, running })));
  }

  /** Moves the hostnames to the promoted server; resolves with the new version. */
  publishFailover(cluster: string, record: FailoverRecord, target: string): Promise<number> {
    return this.#serialize(async () => {
      const config = this.cluster(cluster);
      const server = this.server(config, target);
      const previous = this.#master(config.name);
      if (previous === server.name) return this.#state.version;
      const detail = `failover ${config.name}: ${previous} → ${server.name}; ${describeTarget(publishedCluster(config, server))}`;
      return this.#moveMaster(config, server, 'failover', detail, record.reason, (f) => ({
        ...f,
        // From here on a former master: kept read-only until it is rejoined.
        fenced: [...new Set([...f.fenced, record.old_master])],
        running: f.running ? { ...f.running, record } : null,
      }));
    });
  }

  /**
   * Journals a switchover: before its first action (a restarted controller then rolls it back or
   * finishes it), and again at each step that changes what undoing it takes.
   */
  saveSwitchover(cluster: string, switchover: RunningSwitchover): Promise<void> {
    return this.#serialize(() => this.#updateFailover(cluster, (f) => ({ ...f, switchover })));
  }

  /**
   * Moves the hostnames to the master a switchover promoted and marks it published in the same
   * write: from then on a restarted controller finishes it instead of rolling it back.
   */
  publishSwitchover(cluster: string, switchover: RunningSwitchover): Promise<number> {
    return this.#serialize(async () => {
      const config = this.cluster(cluster);
      const server = this.server(config, switchover.target);
      const previous = this.#master(config.name);
      const detail = `switchover ${config.name}: ${previous} → ${server.name}; ${describeTarget(publishedCluster(config, server))}`;
      const version = this.#state.version + 1;
      const published = { ...switchover, reached: 'published' as const, version };
      await this.#moveMaster(config, server, 'switchover', detail, switchover.reason ?? undefined, (f) => ({ ...f, switchover: published }));
      return version;
    });
  }

  /** Files a finished switchover and ends its journal; `fence`: a target left read-only that may come back writable. */
  finishSwitchover(cluster: string, record: SwitchoverRecord, fence: readonly string[] = []): Promise<void> {
    return this.#serialize(() =>
      this.#updateFailover(cluster, (f) => ({
        ...f,
        switchover: null,
        switchovers: [...f.switchovers, record].slice(-SWITCHOVER_LIMIT),
        fenced: [...new Set([...f.fenced, ...fence])],
      })),
    );
  }

  /** Stops fencing `server`: it replicates from the master now (rejoin). */
  unfence(cluster: string, server: string): Promise<void> {
    return this.#serialize(() =>
      this.#updateFailover(cluster, (f) => ({ ...f, fenced: f.fenced.filter((n) => n !== server) })),
    );
  }

  /** Files the record; a finished failover blocks the next automatic one for min_interval. */
  finishFailover(cluster: string, record: FailoverRecord): Promise<void> {
    return this.#serialize(async () => {
      const config = this.cluster(cluster);
      const blockedUntil =
        record.outcome === 'done'
          ? new Date(this.now().getTime() + config.failover.min_interval).toISOString()
          : this.failoverState(cluster).blocked_until;
      await this.#commit(filedFailover(this.#state, cluster, record, blockedUntil));
    });
  }

  /** Lifts the post-failover block; resolves with when it would have ended (null: there was none). */
  ack(cluster: string): Promise<string | null> {
    return this.#serialize(async () => {
      this.cluster(cluster);
      const was = this.failoverState(cluster).blocked_until;
      if (was !== null) await this.#updateFailover(cluster, (f) => ({ ...f, blocked_until: null }));
      return was;
    });
  }

  /** Pauses automatic failover of the cluster until `until` (durable: a restart keeps the pause). */
  pause(cluster: string, until: Date, reason: string | null): Promise<void> {
    return this.#serialize(async () => {
      this.cluster(cluster);
      await this.#updateFailover(cluster, (f) => ({ ...f, paused: { until: until.toISOString(), reason } }));
    });
  }

  /** Ends a pause; resolves with when it would have ended (null: the cluster was not paused). */
  resume(cluster: string, now: Date): Promise<string | null> {
    return this.#serialize(async () => {
      this.cluster(cluster);
      const was = this.pausedUntil(cluster, now)?.until.toISOString() ?? null;
      if (this.failoverState(cluster).paused !== null) {
        await this.#updateFailover(cluster, (f) => ({ ...f, paused: null }));
      }
      return was;
    });
  }

  /**
   * A state committed by the leader (this controller follows it, or was just elected and re-read
   * it): served from now on. Never goes back to an older version.
   */
  adopt(state: ControllerState): Promise<void> {
    return this.#serialize(async () => {
      if (state.version < this.#state.version) return;
      const bumped = state.version !== this.#state.version;
      this.#state = withoutFencedMasters(state);
      if (bumped) this.publisher.publish(Mapping.parse(mappingOf(this.#state)));
    });
  }

  #serialize<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(change);
    this.#tail = run.catch(() => {});
    return run;
  }

  #master(cluster: string): string {
    const master = this.#state.clusters[cluster]?.master;
    if (master === undefined) throw new Error(`state has no cluster ${cluster}`);
    return master;
  }

  async #updateFailover(cluster: string, change: FailoverChange): Promise<void> {
    await this.#commit(withFailover(this.#state, cluster, change));
  }

  async #moveMaster(
    cluster: ClusterConfig,
    server: ServerConfig,
    event: HistoryEntry['event'],
    detail: string,
    reason: string | undefined,
    change: FailoverChange,
  ): Promise<number> {
    const entry: HistoryEntry = {
      version: this.#state.version + 1,
      at: this.now().toISOString(),
      cluster: cluster.name,
      event,
      previous_master: this.#master(cluster.name),
      master: server.name,
      detail,
      ...(reason ? { reason } : {}),
    };
    await this.#commit(movedMaster(this.#state, publishedCluster(cluster, server), entry, change));
    return entry.version;
  }

  async #commit(proposed: ControllerState): Promise<void> {
    const unstamped = withoutFencedMasters(proposed);
    const bumped = unstamped.version !== this.#state.version;
    const term = this.authority?.term;
    const next = bumped && term !== undefined ? { ...unstamped, term } : unstamped;
    // Validated before it is saved: a mapping that cannot be served must not become the durable state.
    const mapping = bumped ? Mapping.parse(mappingOf(next)) : undefined;
    try {
      await this.store.save(next);
    } catch (error) {
      // Deposed (etcd): not a failed write but no longer ours to make; the caller is redirected to the leader.
      if (error instanceof StateWriteError || error instanceof NotLeader) throw error;
      throw new StateWriteError(`cannot save the state to ${this.store.location}: ${describeCause(error)}`, {
        cause: error,
      });
    }
    this.#state = next;
    if (mapping) this.publisher.publish(mapping);
  }
}
