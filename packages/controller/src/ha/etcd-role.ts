import { hostname } from 'node:os';
import type { ControllerInfo, LeaderRef } from '@pullover/protocol';
import type { AgentRegistry } from '../agents/registry.js';
import type { LoadedConfig } from '../config/load.js';
import { describeCause, NotLeader, NotServing } from '../errors.js';
import type { LogLine } from '../log-line.js';
import type { MappingPublisher } from '../mapping/publisher.js';
import type { ClusterMonitors } from '../monitor/cluster-monitors.js';
import { EtcdStore } from '../state/etcd-store.js';
import type { StateKeeper } from '../state/keeper.js';
import { reconcile } from '../state/reconcile.js';
import type { Authority } from './authority.js';
import { Election } from './election.js';
import { EtcdClient } from './etcd-client.js';
import { FleetShare } from './fleet-share.js';
import type { Leadership } from './leadership.js';
import { leaderInfoOf } from './leadership.js';
import { type LeaseTiming, leaseTiming } from './timing.js';

type EtcdSettings = NonNullable<LoadedConfig['store']>['etcd'];

/** What the role drives once the controller listens. */
export interface RoleDeps {
  readonly url: string;
  readonly keeper: StateKeeper;
  readonly monitors: ClusterMonitors;
  readonly publisher: MappingPublisher;
  /** The agents heard here, shared with the other controllers, and theirs taken in. */
  readonly registry: AgentRegistry;
  readonly now: () => Date;
  readonly log: (line: LogLine) => void;
}

/**
 * This controller among several on etcd: it follows the committed state, campaigns for the leader
 * key, and acts only while it leads. Elected, it re-reads the state (reconciled with its config)
 * before it may act, then the monitors take up any journaled operation; deposed, it stops acting at
 * once (every statement and state write asks timeLeftMs() first) and goes on serving what is committed.
 */
export class EtcdRole implements Authority {
  readonly mode = 'etcd' as const;
  readonly name: string;
  readonly client: EtcdClient;
  readonly store: EtcdStore;
  readonly timing: LeaseTiming;
  readonly #config: LoadedConfig;
  readonly #settings: EtcdSettings;
  #election: Election | undefined;
  /** The leadership whose state was re-read: acting starts there, not at the election. */
  #ready: Leadership | undefined;
  #unfollow: (() => void) | undefined;
  #fleet: FleetShare | undefined;
  #watchCutOff: NodeJS.Timeout | undefined;

  constructor(config: LoadedConfig, settings: EtcdSettings) {
    this.#config = config;
    this.#settings = settings;
    this.name = settings.name ?? hostname();
    const tls = config.secrets.etcd_tls;
    const { endpoints, retry_timeout: retryTimeoutMs } = settings;
    this.client = new EtcdClient({ endpoints, retryTimeoutMs, ...(tls ? { tls } : {}) });
    this.store = new EtcdStore(this.client, { prefix: settings.prefix, name: this.name });
    const interval = Math.max(...config.clusters.map((c) => c.monitor.interval));
    this.timing = leaseTiming(settings.lease_ttl, settings.retry_timeout, interval);
  }

  get term(): number | undefined {
    return this.#leading()?.term;
  }

  timeLeftMs(): number {
    return this.#leading()?.timeLeftMs() ?? 0;
  }

  assertActing(): void {
    const leadership = this.#leading();
    if (leadership && leadership.timeLeftMs() > 0) return;
    const leader = this.leader();
    const why = this.#election?.failing !== undefined
      ? `etcd is unreachable (${this.#election.failing}); nobody can act until it answers`
      : leader
        ? `${leader.name} leads (term ${leader.term}) at ${leader.url}`
        : 'no controller leads right now (an election is under way)';
    throw new NotLeader(`${this.name} does not lead: ${why}`, leader?.name === this.name ? null : leader);
  }

  leader(): LeaderRef | null {
    const info = this.#election?.leader;
    return info ? { name: info.name, url: info.info, term: info.term } : null;
  }

  /** Why this controller must not hold long-polls: cut off from etcd for longer than the lease. */
  servingProblem(): string | undefined {
    const cutOff = this.#election?.cutOffMs ?? 0;
    if (cutOff <= this.timing.ttlMs) return undefined;
    return `${this.name} has not reached etcd for ${Math.round(cutOff / 1000)} s (longer than the ${this.timing.ttlMs / 1000} s lease): what it holds may be stale; ask another controller`;
  }

  get etcdReachable(): boolean {
    return this.#election?.failing === undefined;
  }

  /** Every controller with a live member key, and its role. */
  async controllers(): Promise<ControllerInfo[]> {
    const { kvs } = await this.client.range(`${this.#settings.prefix}members/`, { prefix: true, budgetMs: 1000 });
    const leader = this.#election?.leader?.name;
    return kvs.map((kv) => {
      const member = leaderInfoOf(kv.value, 0);
      return { name: member.name, url: member.info, role: member.name === leader ? 'leader' : 'follower' };
    });
  }

  /** Follows the committed state and campaigns, from now until stop(). */
  start(deps: RoleDeps): void {
    const say = (level: LogLine['level'], message: string) => deps.log({ level, message });
    let lastError = '';
    this.#unfollow = this.store.follow(
      (committed) => void deps.keeper.adopt(committed.state),
      (error) => {
        const why = describeCause(error);
        if (why !== lastError) say('warn', `controller ${this.name}: following the state in etcd failed: ${why}`);
        lastError = why;
      },
    );
    const election = new Election(this.client, {
      prefix: this.#settings.prefix,
      name: this.name,
      info: this.#settings.advertise_url ?? deps.url,
      timing: this.timing,
      log: (sentence) => say('warn', sentence),
    });
    this.#election = election;
    this.#fleet = new FleetShare(this.client, {
      prefix: this.#settings.prefix,
      name: this.name,
      registry: deps.registry,
      askForReports: () => deps.publisher.askForReports(),
      log: deps.log,
    });
    this.#fleet.start();
    election.onElected((leadership) => void this.#take(leadership, deps));
    election.start();
    // Polls parked before the cut-off began are let go too: their agents move to another controller.
    let cutOff = false;
    this.#watchCutOff = setInterval(() => {
      const problem = this.servingProblem();
      if (problem !== undefined && !cutOff) {
        const released = deps.publisher.release(new NotServing(problem));
        say('warn', `${problem}: ${released} parked poll(s) let go, new ones refused until etcd answers`);
      }
      cutOff = problem !== undefined;
    }, this.timing.keepaliveMs).unref();
  }

  /** Stops campaigning and hands the leadership over now (a clean stop need not wait for the TTL). */
  async stop(): Promise<void> {
    clearInterval(this.#watchCutOff);
    this.#unfollow?.();
    await this.#fleet?.stop();
    await this.#election?.stop();
    await this.client.close();
  }

  /** The leader doubts `master`: the agents parked on the other controllers report too. */
  askAgents(cluster: string, master: string): void {
    this.#fleet?.ask(cluster, master);
  }

  #leading(): Leadership | undefined {
    const leadership = this.#election?.leadership;
    return leadership !== undefined && leadership === this.#ready ? leadership : undefined;
  }

  /** Re-reads the state under the new term, reconciled with this controller's config, then acts. */
  async #take(leadership: Leadership, deps: RoleDeps): Promise<void> {
    this.store.lead(leadership);
    leadership.onLost(() => this.store.lead(undefined));
    try {
      const saved = await this.store.load();
      const { state, changed, log } = reconcile(saved, this.#config, deps.now(), this.store.location);
      for (const line of log) deps.log(line);
      const stamped = state.version !== saved?.version ? { ...state, term: leadership.term } : state;
      if (changed || saved === null) await this.store.save(stamped);
      await deps.keeper.adopt(stamped);
      if (leadership.lost !== undefined) return;
      this.#ready = leadership;
      deps.log({ level: 'warn', message: `controller ${this.name}: leads term ${leadership.term} from version ${stamped.version}: looking at every cluster before acting` });
      deps.monitors.lead();
    } catch (error) {
      leadership.lose(`could not take up the state: ${describeCause(error)}`);
    }
  }
}
