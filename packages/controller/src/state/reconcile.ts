import type { ControllerConfig } from '../config/load.js';
import { StateError } from '../errors.js';
import type { LogLine } from '../log-line.js';
import { describeChange, describeTarget, initialMaster, publishedCluster } from './published.js';
import {
  type ControllerState,
  HISTORY_LIMIT,
  type HistoryEntry,
  type PublishedCluster,
  STATE_FORMAT,
} from './schema.js';

export interface Reconciled {
  readonly state: ControllerState;
  /** True when the version went up and the state must be saved before it is served. */
  readonly changed: boolean;
  /** One sentence per event, for the log. */
  readonly log: readonly LogLine[];
}

type Event = Omit<HistoryEntry, 'version' | 'at'>;

/**
 * Brings the saved state in line with the config at start. The state dir decides who the master
 * is; the config decides which clusters, hostnames, addresses and port exist. Any difference in
 * what would be published bumps the version once, so that agents never see two contents under one
 * version. Pure: `location` and `now` are only used in messages and timestamps.
 */
export function reconcile(
  saved: ControllerState | null,
  config: ControllerConfig,
  now: Date,
  location: string,
): Reconciled {
  const events: Event[] = [];
  const log: LogLine[] = [];
  const clusters: Record<string, PublishedCluster> = {};

  for (const cluster of config.clusters) {
    const recorded = saved?.clusters[cluster.name];
    if (!recorded) {
      const next = publishedCluster(cluster, initialMaster(cluster));
      clusters[cluster.name] = next;
      events.push({
        cluster: cluster.name,
        event: saved ? 'cluster-added' : 'initial',
        previous_master: null,
        master: next.master,
        detail: `${saved ? 'new cluster' : 'first start'} ${cluster.name}: ${describeTarget(next)}`,
      });
      continue;
    }
    const server = cluster.servers.find((s) => s.name === recorded.master);
    if (!server) {
      throw new StateError(
        `${location} records ${recorded.master} as the master of cluster ${cluster.name}, but ${config.source} no longer lists it among that cluster's servers (${cluster.servers.map((s) => s.name).join(', ')}); the hostnames still point at it. Add ${recorded.master} back to the servers, start the controller, move the master with "pullover-controller set-master --cluster ${cluster.name} NAME", then remove it from the config.`,
      );
    }
    const next = publishedCluster(cluster, server);
    clusters[cluster.name] = next;
    const change = describeChange(recorded, next);
    if (change) {
      events.push({
        cluster: cluster.name,
        event: 'config-changed',
        previous_master: recorded.master,
        master: next.master,
        detail: `config changed ${cluster.name}: ${change}; ${describeTarget(next)}`,
      });
    }
    if (cluster.master !== undefined && cluster.master !== recorded.master) {
      log.push({
        level: 'info',
        cluster: cluster.name,
        message: `${cluster.name}: the config's "master: ${cluster.master}" only applies at the very first start; ${location} says ${recorded.master}, which stays the master`,
      });
    }
    if (server.no_master) {
      log.push({
        level: 'warn',
        cluster: cluster.name,
        message: `${cluster.name}: the master ${server.name} is marked no_master in ${config.source}; it stays the master until set-master moves it`,
      });
    }
  }

  for (const [name, recorded] of Object.entries(saved?.clusters ?? {})) {
    if (config.clusters.some((c) => c.name === name)) continue;
    events.push({
      cluster: name,
      event: 'cluster-removed',
      previous_master: recorded.master,
      master: null,
      detail: `cluster ${name} is no longer in ${config.source}: ${recorded.hostnames.join(', ')} leave the mapping`,
    });
  }

  if (saved && events.length === 0) return { state: saved, changed: false, log };

  const version = (saved?.version ?? 0) + 1;
  const at = now.toISOString();
  const history = [...(saved?.history ?? []), ...events.map((e) => ({ version, at, ...e }))];
  return {
    state: {
      format: STATE_FORMAT,
      version,
      issued_at: at,
      clusters,
      history: history.slice(-HISTORY_LIMIT),
      failover: saved?.failover ?? {},
      failovers: saved?.failovers ?? [],
      failovers_filed: saved?.failovers_filed ?? {},
    },
    changed: true,
    log: [
      ...events.map((e) => ({ level: 'info' as const, cluster: e.cluster, message: `${e.detail}, version ${version}` })),
      ...log,
    ],
  };
}
