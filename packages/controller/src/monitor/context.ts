import type { RejoinResponse } from '@pullover/protocol';
import type { AgentRegistry } from '../agents/registry.js';
import type { ClusterConfig, ServerConfig } from '../config/load.js';
import type { ExecutorDeps } from '../failover/executor.js';
import { FenceKeeper } from '../failover/fence-keeper.js';
import type { Authority } from '../ha/authority.js';
import type { LogLine } from '../log-line.js';
import { actLock } from '../mysql/act-lock.js';
import type { StateKeeper } from '../state/keeper.js';
import { ClusterObserver, type Login } from '../topology/observer.js';
import { Exclusive } from './exclusive.js';
import { ClusterView } from './view.js';

export interface MonitorDeps {
  readonly cluster: ClusterConfig;
  readonly keeper: StateKeeper;
  readonly registry: AgentRegistry;
  readonly login: Login;
  readonly replication: Login;
  readonly log: (line: LogLine) => void;
  readonly now: () => Date;
  /** Whether this controller may change the servers (it leads, or is alone). */
  readonly authority: Authority;
  /** This controller among any others (its host and state dir): its MySQL-side locks carry it. */
  readonly instance: string;
  /** Ends the agents' parked polls so that each reports whether it reaches the master; returns how many. */
  readonly askAgents: (master: string) => number;
}

/**
 * What the cluster's loop and the operators' requests share: the connections to its servers,
 * the hold that lets one operation act at a time, the fencer, the last view, the log.
 */
export class ClusterContext {
  readonly observer: ClusterObserver;
  readonly exclusive: Exclusive;
  readonly fencer: FenceKeeper;
  readonly view: ClusterView;
  readonly #lastSaid = new Map<string, string>();

  /** `rejoin`: what the fencer calls with `rejoin: auto` when a fenced server answers again. */
  constructor(
    readonly deps: MonitorDeps,
    rejoin: (name: string) => Promise<RejoinResponse>,
  ) {
    const claim = actLock(deps.cluster.name, deps.authority, deps.instance, deps.log);
    this.observer = new ClusterObserver(deps.cluster, deps.login, deps.now, deps.authority, claim);
    this.exclusive = new Exclusive(deps.cluster.name);
    this.view = new ClusterView(deps.cluster.name, deps.log);
    this.fencer = new FenceKeeper(deps.cluster.name, deps.keeper, this.observer, deps.log, deps.cluster.rejoin === 'auto' ? rejoin : undefined);
  }

  get name(): string {
    return this.deps.cluster.name;
  }

  master(): ServerConfig {
    const name = this.deps.keeper.state.clusters[this.name]?.master;
    return this.observer.server(name ?? '');
  }

  /** Candidates for survivors: neither the master nor a former master kept fenced (its data may have diverged). */
  others(): string[] {
    const master = this.master().name;
    const fenced = this.deps.keeper.fencedServers(this.name);
    return this.deps.cluster.servers.map((s) => s.name).filter((n) => n !== master && !fenced.includes(n));
  }

  executorDeps(): ExecutorDeps {
    const { cluster, keeper, registry, replication, log, now } = this.deps;
    return { cluster, keeper, observer: this.observer, registry, replication, log, now };
  }

  /** Logs a sentence once, and again only when it changes: one line per event, not per tick. */
  say(key: string, level: LogLine['level'], message: string): void {
    if (this.#lastSaid.get(key) === message) return;
    this.#lastSaid.set(key, message);
    this.deps.log({ level, message });
  }
}
