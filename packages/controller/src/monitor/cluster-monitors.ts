import type {
  FailoverRecord,
  FailoverRequest,
  RejoinResponse,
  ReplicaHeartbeatResponse,
  SetWritableResponse,
  SwitchoverRequest,
  SwitchoverResponse,
} from '@pullover/protocol';
import type { AgentRegistry } from '../agents/registry.js';
import { hostname } from 'node:os';
import type { LoadedConfig } from '../config/load.js';
import { type Authority, SOLE_AUTHORITY } from '../ha/authority.js';
import type { LogLine } from '../log-line.js';
import type { StateKeeper } from '../state/keeper.js';
import { ClusterMonitor } from './cluster-monitor.js';

/** Every cluster's monitor. Built with the app; loops run only once started (a listening controller). */
export class ClusterMonitors {
  readonly #monitors = new Map<string, ClusterMonitor>();

  constructor(
    config: LoadedConfig,
    keeper: StateKeeper,
    registry: AgentRegistry,
    /** Ends the agents' parked polls, on every controller: each agent reports whether it reaches `master`. */
    askAgents: (cluster: string, master: string) => number,
    log: (line: LogLine) => void,
    now: () => Date,
    authority: Authority = SOLE_AUTHORITY,
  ) {
    for (const cluster of config.clusters) {
      const secrets = config.secrets.mysql?.[cluster.name];
      this.#monitors.set(
        cluster.name,
        new ClusterMonitor({
          cluster,
          keeper,
          registry,
          login: { user: cluster.mysql.user, password: secrets?.password ?? '' },
          replication: { user: cluster.mysql.replication_user, password: secrets?.replication_password ?? '' },
          log: (line) => log({ ...line, cluster: cluster.name }),
          now,
          authority,
          // Two controllers on one host use two state dirs: host and dir name one of them.
          instance: `${hostname()}:${config.state_dir}`,
          askAgents: (master) => askAgents(cluster.name, master),
        }),
      );
    }
  }

  monitor(cluster: string): ClusterMonitor | undefined {
    return this.#monitors.get(cluster);
  }

  start(): void {
    for (const m of this.#monitors.values()) m.start();
  }

  stop(): void {
    for (const m of this.#monitors.values()) m.stop();
  }

  /** This controller was elected and re-read the state: each cluster looks, then acts. */
  lead(): void {
    for (const m of this.#monitors.values()) m.lead();
  }

  failover(cluster: string, request: FailoverRequest): Promise<FailoverRecord> {
    return this.#of(cluster).failover(request);
  }

  setWritable(cluster: string): Promise<SetWritableResponse> {
    return this.#of(cluster).requests.setWritable();
  }

  setReplicaHeartbeat(cluster: string): Promise<ReplicaHeartbeatResponse> {
    return this.#of(cluster).requests.setReplicaHeartbeat();
  }

  switchover(cluster: string, request: SwitchoverRequest): Promise<SwitchoverResponse> {
    return this.#of(cluster).requests.switchover(request);
  }

  rejoin(cluster: string, server: string): Promise<RejoinResponse> {
    return this.#of(cluster).requests.rejoin(server);
  }

  #of(cluster: string): ClusterMonitor {
    const monitor = this.#monitors.get(cluster);
    if (!monitor) throw new Error(`no monitor for cluster ${cluster}`);
    return monitor;
  }
}
