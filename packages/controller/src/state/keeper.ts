import { Mapping, type SetMasterResponse } from '@pullover/protocol';
import type { ClusterConfig, ControllerConfig } from '../config/load.js';
import { describeCause, NotEligible, StateWriteError, UnknownCluster, UnknownServer } from '../errors.js';
import { mappingOf } from '../mapping/build.js';
import type { MappingPublisher } from '../mapping/long-poll.js';
import { describeTarget, publishedCluster } from './published.js';
import { type ControllerState, HISTORY_LIMIT } from './schema.js';
import type { Store } from './store.js';

export interface SetMasterOutcome {
  readonly response: SetMasterResponse;
  /** The sentence to log, or undefined when nothing changed. */
  readonly sentence: string | undefined;
}

/**
 * The only writer of the controller state. Every change is saved durably before it is published:
 * a controller that crashed after publishing an unsaved version would come back at the old version
 * and strand every agent that applied the newer one.
 */
export class StateKeeper {
  readonly config: ControllerConfig;
  readonly #store: Store;
  readonly #publisher: MappingPublisher;
  readonly #now: () => Date;
  #state: ControllerState;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(
    config: ControllerConfig,
    store: Store,
    publisher: MappingPublisher,
    state: ControllerState,
    now: () => Date = () => new Date(),
  ) {
    this.config = config;
    this.#store = store;
    this.#publisher = publisher;
    this.#state = state;
    this.#now = now;
  }

  get state(): ControllerState {
    return this.#state;
  }

  cluster(name: string): ClusterConfig {
    const cluster = this.config.clusters.find((c) => c.name === name);
    if (!cluster)
      throw new UnknownCluster(
        name,
        this.config.clusters.map((c) => c.name),
      );
    return cluster;
  }

  /** Points the cluster's hostnames at `server`. Calls run one at a time: each builds on the last version. */
  setMaster(cluster: string, server: string, reason?: string): Promise<SetMasterOutcome> {
    const run = this.#tail.then(() => this.#setMaster(cluster, server, reason));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #setMaster(clusterName: string, serverName: string, reason?: string): Promise<SetMasterOutcome> {
    const cluster = this.cluster(clusterName);
    const server = cluster.servers.find((s) => s.name === serverName);
    if (!server)
      throw new UnknownServer(
        cluster.name,
        serverName,
        cluster.servers.map((s) => s.name),
      );
    const state = this.#state;
    const previous = state.clusters[cluster.name]?.master;
    if (previous === undefined) throw new Error(`state has no cluster ${cluster.name}`);
    const response = { cluster: cluster.name, previous_master: previous, master: server.name };
    if (previous === server.name) {
      return { response: { ...response, version: state.version, changed: false }, sentence: undefined };
    }
    if (server.no_master) throw new NotEligible(cluster.name, server.name);

    const version = state.version + 1;
    const at = this.#now().toISOString();
    const published = publishedCluster(cluster, server);
    const detail = `set-master ${cluster.name}: ${describeTarget(published)}`;
    const next: ControllerState = {
      ...state,
      version,
      issued_at: at,
      clusters: { ...state.clusters, [cluster.name]: published },
      history: [
        ...state.history,
        {
          version,
          at,
          cluster: cluster.name,
          event: 'set-master' as const,
          previous_master: previous,
          master: server.name,
          detail,
          ...(reason ? { reason } : {}),
        },
      ].slice(-HISTORY_LIMIT),
    };
    // Validated before it is saved: a mapping that cannot be served must not become the durable state.
    const mapping = Mapping.parse(mappingOf(next));
    try {
      await this.#store.save(next);
    } catch (error) {
      if (error instanceof StateWriteError) throw error;
      throw new StateWriteError(`cannot save the state to ${this.#store.location}: ${describeCause(error)}`, {
        cause: error,
      });
    }
    this.#state = next;
    this.#publisher.publish(mapping);
    return {
      response: { ...response, version, changed: true },
      sentence: `${detail}, version ${version}${reason ? ` (reason: ${reason})` : ''}`,
    };
  }
}
