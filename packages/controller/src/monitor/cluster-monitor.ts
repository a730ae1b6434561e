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
import type { ClusterConfig } from '../config/load.js';
import { describeCause, FailoverRefused, SwitchoverRefused } from '../errors.js';
import { type AgentSighting, detect, type PingRecord, type Verdict } from '../failover/detector.js';
import { FailoverExecutor } from '../failover/executor.js';
import { gate } from '../failover/gate.js';
import { Fencer } from '../failover/fencer.js';
import { type Plan, plan } from '../failover/planner.js';
import { unfenceServer } from '../failover/fence.js';
import { repointServer } from '../failover/repoint.js';
import { openRecord } from '../failover/record.js';
import type { LogLine } from '../log-line.js';
import { failureOf } from '../mysql/session.js';
import type { StateKeeper } from '../state/keeper.js';
import type { RunningFailover } from '../state/schema.js';
import { checkSwitchover } from '../switchover/checks.js';
import { longWritesProblem, resumeSwitchover, runSwitchover } from '../switchover/executor.js';
import { rejoin } from '../switchover/rejoin.js';
import { setReplicaHeartbeat } from '../switchover/replica-heartbeat.js';
import { setWritable } from '../switchover/set-writable.js';
import type { ServerObservation } from '../topology/observation.js';
import { ClusterObserver, type Login } from '../topology/observer.js';
import { type Heard, lostBySilence, noteHeard } from '../topology/silence.js';

/** After a failed ping, the next one goes out this soon: a dead master is confirmed in a fraction of the interval. */
const RECHECK_MS = 100;

/** After a failed failover, the next automatic attempt waits this long, doubled after each further failure: a failing step is not hammered. */
const RETRY_FAILED_MS = 30_000;
const RETRY_FAILED_MAX_MS = 10 * 60_000;

/** Agents are asked for their view at most this often: a flapping master must not make every app server report each second. */
const ASK_AGENTS_EVERY_MS = 10_000;

export interface MonitorDeps {
  readonly cluster: ClusterConfig;
  readonly keeper: StateKeeper;
  readonly registry: AgentRegistry;
  readonly login: Login;
  readonly replication: Login;
  readonly log: (line: LogLine) => void;
  readonly now: () => Date;
  /** Ends the agents' parked polls so that each reports whether it reaches the master; returns how many. */
  readonly askAgents: () => number;
}

export interface Health {
  readonly verdict: Verdict;
  readonly since: Date;
}

/**
 * One cluster's loop: ping the master, look at every server, ask the detector, and when the
 * master is dead and nothing blocks it, plan and run the failover. Decisions are the pure
 * detector's and planner's; this class only gathers what they read and carries out what they say.
 */
export class ClusterMonitor {
  readonly observer: ClusterObserver;
  readonly #deps: MonitorDeps;
  readonly #fencer: Fencer;
  #pings: PingRecord = { consecutiveFailures: 0 };
  /** The last ping the master answered: the death happened after it. */
  #lastAnswer: Date | undefined;
  #askedAgentsAt = 0;
  /** No automatic failover before this time: the last one failed. */
  #retryAfter: Date | undefined;
  /** Targets of failovers that failed since the master was last seen alive: the planner tries others first. */
  #failedTargets: string[] = [];
  #observations = new Map<string, ServerObservation>();
  /** When each replica's receiver last showed something new from the master (topology/silence.ts). */
  readonly #heard = new Map<string, Heard>();
  #health: Health | undefined;
  /** Set from the moment a failover is decided (before it is journaled) until it is filed. */
  #busy = false;
  #lastSaid = new Map<string, string>();
  /** A journaled switchover is being rolled back or finished (the loop of attempts runs). */
  #resuming = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(deps: MonitorDeps) {
    this.#deps = deps;
    this.observer = new ClusterObserver(deps.cluster, deps.login, deps.now);
    this.#fencer = new Fencer(
      deps.cluster.name,
      deps.keeper,
      this.observer,
      deps.log,
      deps.cluster.rejoin === 'auto' ? (name) => this.rejoin(name) : undefined,
    );
  }

  get name(): string {
    return this.#deps.cluster.name;
  }

  get health(): Health | undefined {
    return this.#health;
  }

  get consecutiveFailures(): number {
    return this.#pings.consecutiveFailures;
  }

  get running(): boolean {
    return this.#busy;
  }

  observation(server: string): ServerObservation | undefined {
    return this.#observations.get(server);
  }

  start(): void {
    this.#fencer.start();
    const journal = this.#deps.keeper.failoverState(this.name).running;
    if (journal) {
      this.#say('journal', 'warn', `${this.name}: the failover ${journal.record.id} (${journal.record.old_master} → ${journal.target}) was left unfinished by a previous controller: it resumes once ${journal.record.old_master} is confirmed dead again, and is cancelled if it answers before ${journal.target} was promoted`);
    }
    // Before the first tick: the loop must not read a master left read_only by the switchover as a restarted one.
    void this.#resumeSwitchover();
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    this.#fencer.stop();
    clearTimeout(this.#timer);
    this.#wake?.();
    this.observer.close();
  }

  /** Whether the cluster's master answers a ping right now. */
  async masterAnswers(): Promise<boolean> {
    const master = this.#master();
    return this.observer.ping(master.name, this.#deps.cluster.monitor.ping).then(() => true, () => false);
  }

  /** A failover by hand: the operator has decided the master is dead. Resolves when it is over. */
  async failover({ to, reason, force = false }: FailoverRequest): Promise<FailoverRecord> {
    if (this.#busy) throw new FailoverRefused(this.name, 'a failover is already running');
    if (this.#deps.keeper.failoverState(this.name).running) {
      throw new FailoverRefused(this.name, 'an unfinished failover is journaled: it resumes once the master is confirmed dead again');
    }
    const master = this.#master();
    if (await this.masterAnswers()) {
      throw new FailoverRefused(this.name, `${master.name} answers: failover is for a dead master; move a live one with switchover`);
    }
    const survivors = await this.observer.observeAll(this.#others());
    const decided = this.#plan(survivors, to);
    if (decided.kind === 'impossible') throw new FailoverRefused(this.name, decided.sentence);
    return this.#begin(decided, 'manual', reason ?? 'manual failover', new Date(this.#deps.now()), force);
  }

  /** The read_only master takes writes again, when no other server could hold a write it lacks. */
  async setWritable(): Promise<SetWritableResponse> {
    const result = await this.#setWritable();
    const level = result.outcome === 'refused' ? 'warn' : 'info';
    this.#deps.log({ level, message: `${this.name}: set-writable ${result.master}: ${result.outcome}: ${result.checks.join('; ')}` });
    return result;
  }

  async #setWritable(): Promise<SetWritableResponse> {
    if (this.#busy || this.#deps.keeper.failoverState(this.name).running) {
      throw new FailoverRefused(this.name, 'a failover or switchover is under way');
    }
    this.#busy = true;
    try {
      return await setWritable(this.#executorDeps(), this.#master().name, this.#others());
    } finally {
      this.#busy = false;
    }
  }

  /** Every replica of the master gets monitor.replica_heartbeat (those pointed by hand keep MariaDB's 30 s). */
  async setReplicaHeartbeat(): Promise<ReplicaHeartbeatResponse> {
    if (this.#busy || this.#deps.keeper.failoverState(this.name).running) {
      throw new FailoverRefused(this.name, 'a failover or switchover is under way');
    }
    this.#busy = true;
    try {
      const result = await setReplicaHeartbeat(this.#executorDeps(), this.#master().name, this.#others());
      const failed = result.replicas.some((r) => r.outcome === 'failed');
      this.#deps.log({ level: failed ? 'warn' : 'info', message: `${this.name}: replica heartbeat ${result.heartbeat_s} s: ${result.replicas.map((r) => r.detail).join('; ') || 'no replica'}` });
      return result;
    } finally {
      this.#busy = false;
    }
  }

  /** A planned switchover (the master is alive): checked, then carried out unless `dry_run`. */
  async switchover(request: SwitchoverRequest): Promise<SwitchoverResponse> {
    if (this.#busy) throw new FailoverRefused(this.name, 'a failover or switchover is already running');
    if (this.#deps.keeper.failoverState(this.name).switchover) {
      throw new FailoverRefused(this.name, 'an unfinished switchover is journaled: it is being rolled back or finished (see the log)');
    }
    this.#busy = true;
    try {
      const { cluster, keeper, registry, now } = this.#deps;
      const master = this.#master();
      const fenced = keeper.failoverState(this.name).fenced;
      const live = registry.live(now());
      const behind = live.filter((a) => a.report.applied_version !== keeper.state.version).map((a) => a.name);
      const checked = checkSwitchover({
        master: { name: master.name, address: master.address, port: cluster.mysql.port },
        servers: cluster.servers,
        observations: await this.observer.observeAll(),
        fenced,
        to: request.to,
        maxLagS: request.max_lag_s ?? 5,
        blockedUntil: this.#deps.keeper.blockedUntil(this.name, this.#deps.now()),
        now: now(),
        agents: { live: live.length, current: live.length - behind.length, behind },
      });
      if (!checked.ok) throw new SwitchoverRefused(this.name, checked.problems, checked.checks);
      const busy = await longWritesProblem(this.#executorDeps(), master.name);
      if (busy) throw new SwitchoverRefused(this.name, [busy], checked.checks);
      const planned = {
        cluster: this.name,
        old_master: master.name,
        new_master: checked.target,
        checks: [...checked.checks],
        steps: [],
        write_blocked_ms: null,
        version: null,
      };
      if (request.dry_run) return { ...planned, outcome: 'planned' };
      this.#deps.log({ level: 'warn', message: `${this.name}: switchover ${master.name} → ${checked.target} starts` });
      return await runSwitchover(this.#executorDeps(), {
        oldMaster: master.name,
        target: checked.target,
        repoint: checked.repoint,
        checks: checked.checks,
        catchupTimeoutS: request.catchup_timeout_s ?? 5,
        reason: request.reason,
      });
    } finally {
      this.#busy = false;
      // Left journaled (its rollback could not finish): retried until it can.
      void this.#resumeSwitchover();
    }
  }

  /**
   * A journaled switchover, left by a controller that died or by a rollback that could not finish
   * (the old master did not answer): rolled back, or finished once published. Tried again every
   * interval; the loop may act in between (a master that stays dead is failed over, which
   * supersedes the switchover).
   */
  async #resumeSwitchover(): Promise<void> {
    if (this.#resuming) return;
    this.#resuming = true;
    try {
      const journaled = () => this.#deps.keeper.failoverState(this.name).switchover;
      for (let journal = journaled(); journal && !this.#stopped; journal = journaled()) {
        const what = `the unfinished switchover ${journal.old_master} → ${journal.target} (stopped at ${journal.reached})`;
        if (!this.#busy) {
          this.#busy = true;
          try {
            const result = await resumeSwitchover(this.#executorDeps(), journal);
            this.#deps.log({ level: 'warn', message: `${this.name}: ${what}: ${result.outcome}${result.error ? ` (${result.error})` : ''}` });
            return;
          } catch (error) {
            this.#say('switchover-journal', 'warn', `${this.name}: ${what} cannot be ${journal.reached === 'published' ? 'finished' : 'rolled back'} yet: ${describeCause(error)}; tried again every ${this.#deps.cluster.monitor.interval} ms`);
          } finally {
            this.#busy = false;
          }
        }
        await new Promise((r) => setTimeout(r, this.#deps.cluster.monitor.interval).unref());
      }
    } finally {
      this.#resuming = false;
    }
  }

  /** A former master or stray server becomes a replica of the master, unless it holds errant transactions. */
  async rejoin(server: string): Promise<RejoinResponse> {
    this.observer.server(server);
    const result = await rejoin(this.#executorDeps(), server);
    this.#deps.log({
      level: result.outcome === 'rejoined' ? 'info' : 'warn',
      message: `${this.name}: rejoin ${server}: ${result.detail}`,
    });
    return result;
  }

  #executorDeps() {
    const { cluster, keeper, registry, replication, log, now } = this.#deps;
    return { cluster, keeper, observer: this.observer, registry, replication, log, now };
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#tick();
      } catch (error) {
        // The loop is a crash barrier: one bad tick is logged, the next one runs.
        this.#say('tick', 'warn', `${this.name}: monitoring failed this round: ${(error as Error).message}`);
      }
      const delay = this.#pings.consecutiveFailures > 0 ? RECHECK_MS : this.#deps.cluster.monitor.interval;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, delay);
      });
    }
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    const { cluster, now } = this.#deps;
    const master = this.#master();
    const lookedAtMs = performance.now();
    const [pinged, observed] = await Promise.all([
      this.observer.ping(master.name, cluster.monitor.ping).then(
        () => undefined,
        (error: unknown) => failureOf(master.name, error),
      ),
      this.observer.observeAll(),
    ]);
    if (this.#stopped || this.#busy) return;
    for (const o of observed) this.#noteObservation(o);
    const silentReceivers = this.#silentReceivers(observed, lookedAtMs);

    if (pinged === undefined) {
      this.#pings = { consecutiveFailures: 0 };
      this.#lastAnswer = now();
      // A crashed mysqld closes this connection at once: ping again now rather than at the next interval.
      await this.observer.keepStandby(master.name, () => this.#wake?.());
    } else {
      if (this.#pings.consecutiveFailures === 0 && now().getTime() - this.#askedAgentsAt >= ASK_AGENTS_EVERY_MS) {
        this.#askedAgentsAt = now().getTime();
        const asked = this.#deps.askAgents();
        if (asked > 0) this.#deps.log({ level: 'info', message: `${this.name}: asked ${asked} agent(s) whether they reach ${master.name}` });
      }
      this.#pings = {
        consecutiveFailures: this.#pings.consecutiveFailures + 1,
        lastFailure: { kind: pinged.kind, message: pinged.message },
        failingSince: this.#pings.failingSince ?? now(),
      };
    }
    const observedMaster = observed.find((o) => o.name === master.name);
    const verdict = detect({
      master: { name: master.name, address: master.address, port: cluster.mysql.port },
      cluster: this.name,
      pings: this.#pings,
      masterReadOnly: pinged === undefined ? observedMaster?.readOnly : undefined,
      replicas: observed.filter((o) => o.name !== master.name),
      silentReceivers,
      agents: this.#sightings(master.address),
      agentsExpected: this.#liveAgents(),
      elapsedMs: now().getTime() - (this.#pings.failingSince ?? now()).getTime(),
      // Long enough for an agent's greeting check of a silent master to time out and be reported.
      agentGraceMs: 2 * cluster.monitor.timeout,
      failuresNeeded: cluster.monitor.failures,
    });
    if (verdict.state !== this.#health?.verdict.state) {
      this.#health = { verdict, since: now() };
      this.#deps.log({ level: verdict.state === 'master-alive' ? 'info' : 'warn', message: `${this.name}: ${verdict.sentence}` });
    } else {
      this.#health = { verdict, since: this.#health.since };
    }
    if (pinged === undefined) this.#failedTargets = [];

    const journal = this.#deps.keeper.failoverState(this.name).running;
    if (journal) {
      await this.#resumeOrCancel(journal, pinged === undefined, verdict, observed);
      return;
    }
    if (verdict.state === 'master-read-only') {
      await this.#recoverRestart();
      return;
    }
    if (verdict.state !== 'master-dead') return;

    const allowed = gate({
      cluster: this.name,
      master: master.name,
      auto: cluster.failover.auto,
      blockedUntil: this.#deps.keeper.blockedUntil(this.name, this.#deps.now()),
      paused: this.#deps.keeper.pausedUntil(this.name, this.#deps.now()),
      retryAfter: this.#retryAfter,
      now: now(),
    });
    if (!allowed.go) {
      this.#say('blocked', 'warn', allowed.sentence);
      return;
    }
    const others = this.#others();
    const decided = this.#plan(observed.filter((o) => others.includes(o.name)), undefined);
    if (decided.kind === 'impossible') {
      this.#say('plan', 'warn', `${this.name}: ${master.name} is dead and cannot be replaced: ${decided.sentence}`);
      return;
    }
    await this.#begin(decided, 'auto', verdict.sentence, this.#pings.failingSince ?? now());
  }

  /**
   * A failover journaled by a controller that died: resumed only once its old master is confirmed
   * dead again (or at once when its target was already promoted: there is no way back then), and
   * cancelled when the old master answers before anything was promoted.
   */
  async #resumeOrCancel(
    journal: RunningFailover,
    masterAnswers: boolean,
    verdict: Verdict,
    observed: readonly ServerObservation[],
  ): Promise<void> {
    const target = observed.find((o) => o.name === journal.target);
    const promoted = journal.record.version !== null || (target?.reachable === true && target.replica === null);
    const old = journal.record.old_master;
    if (promoted) {
      this.#say('journal', 'warn', `${this.name}: resuming the failover ${journal.record.id} (${old} → ${journal.target}): ${journal.target} was already promoted`);
      await this.#execute(journal);
      return;
    }
    if (masterAnswers) {
      await this.#cancel(journal);
      return;
    }
    // The failover may have stopped the replicas' IO threads before it died: they cannot witness
    // any more. Dead again means: our pings fail, no replica is connected to it, no app server reaches it.
    const oldAddress = this.observer.server(old).address;
    const connected = observed.some((o) => o.replica?.io === 'yes' && o.replica.masterHost === oldAddress);
    const confirmed = this.#pings.consecutiveFailures >= this.#deps.cluster.monitor.failures && !connected
      && (verdict.state === 'master-dead' || verdict.state === 'master-unreachable');
    if (!confirmed) {
      this.#say('journal', 'warn', `${this.name}: the unfinished failover ${journal.record.id} (${old} → ${journal.target}) waits: ${verdict.sentence}`);
      return;
    }
    this.#say('journal', 'warn', `${this.name}: resuming the failover ${journal.record.id} (${old} → ${journal.target}) that a previous controller left unfinished: ${old} is confirmed dead again`);
    await this.#execute(journal);
  }

  /** The old master came back before anything was promoted: it stays the master, writable, its replicas on it. */
  async #cancel(journal: RunningFailover): Promise<void> {
    this.#busy = true;
    try {
      const { keeper, now } = this.#deps;
      const old = this.observer.server(journal.record.old_master);
      const error = `${old.name} answered again before ${journal.target} was promoted: failover cancelled, ${old.name} stays the master`;
      // Filed first: from then on the fencer leaves the old master alone.
      await keeper.finishFailover(this.name, { ...journal.record, outcome: 'cancelled', error, finished_at: now().toISOString() });
      const session = await this.observer.session(old.name);
      await unfenceServer(session);
      const [row] = await session.query<{ gtid: string }[]>(session.dialect.overview);
      const deps = { observer: this.observer, replication: this.#deps.replication };
      const timeoutMs = this.#deps.cluster.failover.catchup_timeout;
      const results = await Promise.all(this.#others().map((n) => repointServer(deps, n, old, String(row?.gtid ?? ''), { timeoutMs })));
      this.#deps.log({ level: 'warn', message: `${this.name}: ${error}; writable again; ${results.map((r) => r.detail).join('; ')}` });
    } finally {
      this.#busy = false;
      this.#pings = { consecutiveFailures: 0 };
    }
  }

  /** restart_recovery: auto — a master that came back read_only is made writable when set-writable's check passes, never while paused. */
  async #recoverRestart(): Promise<void> {
    const { cluster, keeper, now } = this.#deps;
    if (cluster.restart_recovery !== 'auto') return;
    const paused = keeper.pausedUntil(this.name, now());
    if (paused) {
      this.#say('restart', 'warn', `${this.name}: ${this.#master().name} is read_only; automatic failover is paused until ${paused.until.toISOString()}, so it is not made writable automatically (resume, or set-writable)`);
      return;
    }
    // Checked every tick until it passes: said once per distinct answer, not once a second.
    const result = await this.#setWritable();
    this.#say('restart', result.outcome === 'writable' ? 'info' : 'warn', `${this.name}: restart_recovery: ${result.master} ${result.outcome === 'writable' ? 'made writable' : `not made writable: ${result.checks.join('; ')}`}`);
  }

  #plan(survivors: ServerObservation[], to: string | undefined): Plan {
    const cluster = this.#deps.cluster;
    const flavor = survivors.find((o) => o.flavor)?.flavor ?? 'mariadb';
    const avoid = this.#failedTargets;
    return plan({ oldMaster: this.#master().name, flavor, servers: cluster.servers, survivors, to, avoid });
  }

  async #begin(decided: Extract<Plan, { kind: 'promote' }>, trigger: 'auto' | 'manual', reason: string, startedAt: Date, force = false): Promise<FailoverRecord> {
    // Claimed before the first await: a manual failover and the loop must never both start one.
    if (this.#busy) throw new FailoverRefused(this.name, 'a failover is already running');
    this.#busy = true;
    const { now, keeper } = this.#deps;
    const master = this.#master();
    const record = openRecord({
      cluster: this.name,
      trigger,
      oldMaster: master.name,
      target: decided.target,
      reason,
      plan: decided.sentence,
      lastAnswer: this.#lastAnswer ?? startedAt,
      firstFailure: startedAt,
      confirmed: now(),
    });
    this.#deps.log({ level: 'warn', message: `${this.name}: failing over from ${master.name}: ${decided.sentence}` });
    const running: RunningFailover = { record, target: decided.target, donor: decided.donor, force };
    // Journaled before the first action: from here on a restarted controller finishes it.
    try {
      await keeper.beginFailover(this.name, running);
    } catch (error) {
      this.#busy = false;
      throw error;
    }
    return this.#execute(running);
  }

  #execute(running: RunningFailover): Promise<FailoverRecord> {
    const executor = new FailoverExecutor(this.#executorDeps(), running, this.#fencer);
    // The old master is on the fenced list from now on: the fencer tries it at once, not at its next round.
    this.#fencer.wake();
    this.#busy = true;
    return executor.run().then((record) => {
      if (record.outcome === 'failed') {
        this.#failedTargets = [...this.#failedTargets.filter((n) => n !== running.target), running.target];
        const wait = Math.min(RETRY_FAILED_MAX_MS, RETRY_FAILED_MS * 2 ** (this.#failedTargets.length - 1));
        this.#retryAfter = new Date(this.#deps.now().getTime() + wait);
      }
      return record;
    }).finally(() => {
      this.#busy = false;
      this.#pings = { consecutiveFailures: 0 };
      this.#health = undefined;
    });
  }

  #master() {
    const name = this.#deps.keeper.state.clusters[this.name]?.master;
    return this.observer.server(name ?? '');
  }

  /** Candidates for survivors: neither the master nor a former master kept fenced (its data may have diverged). */
  #others(): string[] {
    const master = this.#master().name;
    const fenced = this.#deps.keeper.fencedServers(this.name);
    return this.#deps.cluster.servers.map((s) => s.name).filter((n) => n !== master && !fenced.includes(n));
  }

  #liveAgents(): number {
    const live = this.#deps.registry.live(this.#deps.now());
    return live.filter((r) => r.report.masters.some((m) => m.cluster === this.name)).length;
  }

  #sightings(address: string): AgentSighting[] {
    const out: AgentSighting[] = [];
    for (const record of this.#deps.registry.all()) {
      const seen = record.report.masters.find((m) => m.cluster === this.name && m.address === address);
      if (!seen) continue;
      const { reachable, detail } = seen;
      out.push({ agent: record.name, reachable, checkedAt: record.masters_received_at, detail });
    }
    return out;
  }

  /** Replicas connected to their master that heard nothing from it for too long, with how long (ms). */
  #silentReceivers(observed: readonly ServerObservation[], lookedAtMs: number): Map<string, number> {
    const silent = new Map<string, number>();
    for (const o of observed) {
      // Unwatched while unreachable: what it heard meanwhile is unknown, so its silence starts afresh.
      const heard = o.reachable ? noteHeard(this.#heard.get(o.name), o.replica, lookedAtMs) : undefined;
      if (heard) this.#heard.set(o.name, heard);
      else this.#heard.delete(o.name);
      const silentMs = lostBySilence(heard, o.replica, lookedAtMs);
      if (silentMs !== undefined) silent.set(o.name, silentMs);
    }
    return silent;
  }

  /** Logs when a server stops or starts answering, once per change, with the reason. */
  #noteObservation(o: ServerObservation): void {
    const before = this.#observations.get(o.name);
    this.#observations.set(o.name, o);
    if (o.reachable && before && !before.reachable) {
      this.#deps.log({ level: 'info', message: `${this.name}: ${o.name} answers again` });
    } else if (!o.reachable && (before?.reachable !== false || before.failure?.message !== o.failure?.message)) {
      this.#deps.log({ level: 'warn', message: `${this.name}: cannot observe ${o.name}: ${o.failure?.message}` });
    }
  }

  /** Logs a sentence once, and again only when it changes: one line per event, not per tick. */
  #say(key: string, level: LogLine['level'], message: string): void {
    if (this.#lastSaid.get(key) === message) return;
    this.#lastSaid.set(key, message);
    this.#deps.log({ level, message });
  }
}
