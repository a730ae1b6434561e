import type { FailoverRecord, FailoverRequest } from '@pullover/protocol';
import { FailoverRefused } from '../errors.js';
import { cancelFailover } from '../failover/cancel.js';
import { SightingsOf } from '../agents/sightings.js';
import type { PingRecord } from '../failover/detector.js';
import { FailoverExecutor } from '../failover/executor.js';
import type { Plan } from '../failover/planner.js';
import { openRecord } from '../failover/record.js';
import { failureOf } from '../mysql/session.js';
import type { RunningFailover } from '../state/schema.js';
import { setWritable } from '../switchover/set-writable.js';
import type { ServerObservation } from '../topology/observation.js';
import type { ClusterObserver } from '../topology/observer.js';
import { ClusterContext, type MonitorDeps } from './context.js';
import { type Action, afterFailure, decide, type Memory, planFailover, type Snapshot } from './decide.js';
import { ClusterRequests } from './requests.js';
import type { Health } from './view.js';

export type { MonitorDeps } from './context.js';
export type { Health } from './view.js';

/** After a failed ping, the next one goes out this soon: a dead master is confirmed in a fraction of the interval. */
const RECHECK_MS = 100;

/** Agents are asked for their view at most this often: a flapping master must not make every app server report each second. */
const ASK_AGENTS_EVERY_MS = 10_000;

/**
 * One cluster's loop: ping the master, look at every server, and carry out what the pure
 * decide() says (wait, resume or cancel a journaled failover, make a restarted master writable,
 * fail over). Operators' requests (`requests`) take the same exclusive hold on the cluster as the
 * loop's own failover.
 */
export class ClusterMonitor {
  readonly requests: ClusterRequests;
  readonly #ctx: ClusterContext;
  readonly #sightings: SightingsOf;
  #pings: PingRecord = { consecutiveFailures: 0 };
  /** The last ping the master answered: the death happened after it. */
  #lastAnswer: Date | undefined;
  #askedAgentsAt = 0;
  #memory: Memory = { retryAfter: undefined, failedTargets: [] };
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(deps: MonitorDeps) {
    this.#ctx = new ClusterContext(deps, (name) => this.requests.rejoin(name));
    this.requests = new ClusterRequests(this.#ctx);
    this.#sightings = new SightingsOf(deps.registry, this.#ctx.name);
  }

  get name(): string {
    return this.#ctx.name;
  }

  get observer(): ClusterObserver {
    return this.#ctx.observer;
  }

  get health(): Health | undefined {
    return this.#ctx.view.health;
  }

  get consecutiveFailures(): number {
    return this.#pings.consecutiveFailures;
  }

  observation(server: string): ServerObservation | undefined {
    return this.#ctx.view.observation(server);
  }

  start(): void {
    this.#ctx.fencer.start();
    if (this.#ctx.observer.acting) this.lead();
    void this.#loop();
  }

  /**
   * This controller acts from now on (started alone, or elected on etcd), with the state just
   * re-read: a journaled operation is taken up where the journal says.
   */
  lead(): void {
    const ctx = this.#ctx;
    const journal = ctx.deps.keeper.failoverState(this.name).running;
    if (journal) {
      ctx.say('journal', 'warn', `${this.name}: the failover ${journal.record.id} (${journal.record.old_master} → ${journal.target}) was left unfinished by a previous controller: it resumes once ${journal.record.old_master} is confirmed dead again, and is cancelled if it answers before ${journal.target} was promoted`);
    }
    // Before the next tick: the loop must not read a master left read_only by the switchover as a restarted one.
    void this.requests.resumeSwitchover();
    ctx.fencer.wake();
    this.#wake?.();
  }

  stop(): void {
    this.#stopped = true;
    this.requests.stop();
    this.#ctx.fencer.stop();
    clearTimeout(this.#timer);
    this.#wake?.();
    this.#ctx.observer.close();
  }

  /** A failover by hand: the operator has decided the master is dead. Resolves when it is over. */
  async failover({ to, reason, force = false }: FailoverRequest): Promise<FailoverRecord> {
    const ctx = this.#ctx;
    if (ctx.deps.keeper.failoverState(this.name).running) {
      throw new FailoverRefused(this.name, 'an unfinished failover is journaled: it resumes once the master is confirmed dead again');
    }
    return ctx.exclusive.run('a failover', async () => {
      const master = ctx.master();
      const answers = await ctx.observer.ping(master.name, ctx.deps.cluster.monitor.ping).then(() => true, () => false);
      if (answers) {
        throw new FailoverRefused(this.name, `${master.name} answers: failover is for a dead master; move a live one with switchover`);
      }
      const observed = await ctx.observer.observeAll(ctx.others());
      const decided = planFailover(this.#snapshotFor(observed, { now: ctx.deps.now() }), this.#memory, to);
      if (decided.kind === 'impossible') throw new FailoverRefused(this.name, decided.sentence);
      return this.#begin(decided, 'manual', reason ?? 'manual failover', ctx.deps.now(), force);
    });
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#tick();
      } catch (error) {
        // The loop is a crash barrier: one bad tick is logged, the next one runs.
        this.#ctx.say('tick', 'warn', `${this.name}: monitoring failed this round: ${(error as Error).message}`);
      }
      const delay = this.#pings.consecutiveFailures > 0 ? RECHECK_MS : this.#ctx.deps.cluster.monitor.interval;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, delay);
      });
    }
  }

  /** One look at the cluster, one decision, carried out. The clocks are read once, at the start. */
  async #tick(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.exclusive.holder !== undefined) return;
    const now = ctx.deps.now();
    const lookedAtMs = performance.now();
    const master = ctx.master();
    const [pinged, firstLook] = await Promise.all([
      ctx.observer.ping(master.name, ctx.deps.cluster.monitor.ping).then(
        () => undefined,
        (error: unknown) => failureOf(master.name, error),
      ),
      ctx.observer.observeAll(),
    ]);
    if (this.#stopped || ctx.exclusive.holder !== undefined) return;
    let observed = firstLook;
    let silentReceivers = ctx.view.note(observed, lookedAtMs);
    // A ping that failed slowly (a timeout, not a refusal) took the round long: the replicas are
    // looked at again now, so that their silence is measured up to the verdict.
    if (pinged !== undefined && performance.now() - lookedAtMs > RECHECK_MS) {
      const againAtMs = performance.now();
      const again = await ctx.observer.observeAll(observed.filter((o) => o.name !== master.name).map((o) => o.name));
      observed = observed.map((o) => again.find((r) => r.name === o.name) ?? o);
      silentReceivers = ctx.view.note(again, againAtMs);
    }
    if (pinged === undefined) {
      this.#pings = { consecutiveFailures: 0 };
      this.#lastAnswer = now;
      this.#memory = { ...this.#memory, failedTargets: [] };
      // A crashed mysqld closes this connection at once: ping again now rather than at the next interval.
      await ctx.observer.keepIdleConnection(master.name, () => this.#wake?.());
    } else {
      if (this.#pings.consecutiveFailures === 0 && ctx.observer.acting) this.#askAgents(now, master.name);
      this.#pings = {
        consecutiveFailures: this.#pings.consecutiveFailures + 1,
        lastFailure: { kind: pinged.kind, message: pinged.message },
        failingSince: this.#pings.failingSince ?? now,
      };
    }
    const masterReadOnly = pinged === undefined ? observed.find((o) => o.name === master.name)?.readOnly : undefined;
    const snapshot = this.#snapshotFor(observed, { silentReceivers, masterReadOnly, now });
    const { verdict, action } = decide(snapshot, this.#memory, now);
    ctx.view.judged(verdict, now);
    // A follower judges, to show it and to be warm when it leads, but the leader alone acts.
    if (ctx.observer.acting) await this.#carryOut(action, snapshot, now);
  }

  async #carryOut(action: Action, snapshot: Snapshot, now: Date): Promise<void> {
    const ctx = this.#ctx;
    switch (action.kind) {
      case 'wait':
        if (snapshot.journal) ctx.say('journal', 'warn', action.sentence);
        return;
      case 'blocked':
        ctx.say('blocked', 'warn', action.sentence);
        return;
      case 'impossible':
        ctx.say('plan', 'warn', action.sentence);
        return;
      case 'resume':
        ctx.say('journal', 'warn', action.sentence);
        await ctx.exclusive.run('a failover', () => this.#execute(action.journal));
        return;
      case 'cancel':
        await ctx.exclusive.run('a failover', () => cancelFailover(ctx.executorDeps(), action.journal, ctx.others(), action.sentence)).finally(() => {
          this.#pings = { consecutiveFailures: 0 };
        });
        return;
      case 'make-writable': {
        // Checked every tick until it passes: said once per distinct answer, not once a second.
        const result = await ctx.exclusive.run('set-writable', () => setWritable(ctx.executorDeps(), ctx.master().name, ctx.others()));
        ctx.say('restart', result.outcome === 'writable' ? 'info' : 'warn', `${this.name}: restart_recovery: ${result.master} ${result.outcome === 'writable' ? 'made writable' : `not made writable: ${result.checks.join('; ')}`}`);
        return;
      }
      case 'promote':
        await ctx.exclusive.run('a failover', () => this.#begin(action.plan, 'auto', action.sentence, this.#pings.failingSince ?? now));
    }
  }

  /** What decide() and the planner read; the detector's part is filled from this round's pings and looks. */
  #snapshotFor(
    observed: readonly ServerObservation[],
    round: { now: Date; silentReceivers?: ReadonlyMap<string, number>; masterReadOnly?: boolean | undefined },
  ): Snapshot {
    const { cluster, keeper } = this.#ctx.deps;
    const { now } = round;
    const master = this.#ctx.master();
    const sightings = this.#sightings.master(master.address, now);
    return {
      cluster: this.name,
      detector: {
        master: { name: master.name, address: master.address, port: cluster.mysql.port },
        cluster: this.name,
        pings: this.#pings,
        masterReadOnly: round.masterReadOnly,
        replicas: observed.filter((o) => o.name !== master.name),
        silentReceivers: round.silentReceivers ?? new Map(),
        agents: sightings.agents,
        agentsExpected: sightings.expected,
        agentVetoShare: cluster.failover.agent_veto_share,
        elapsedMs: now.getTime() - (this.#pings.failingSince ?? now).getTime(),
        // Long enough for an agent's greeting check of a silent master to time out and be reported.
        agentGraceMs: 2 * cluster.monitor.timeout,
        failuresNeeded: cluster.monitor.failures,
      },
      observed,
      servers: cluster.servers,
      survivors: this.#ctx.others(),
      journal: keeper.failoverState(this.name).running ?? undefined,
      auto: cluster.failover.auto,
      restartRecovery: cluster.restart_recovery,
      blockedUntil: keeper.blockedUntil(this.name, now),
      paused: keeper.pausedUntil(this.name, now),
    };
  }

  /** At the first failed ping, at most every ASK_AGENTS_EVERY_MS: each agent checks the master and reports. */
  #askAgents(now: Date, master: string): void {
    if (now.getTime() - this.#askedAgentsAt < ASK_AGENTS_EVERY_MS) return;
    this.#askedAgentsAt = now.getTime();
    const asked = this.#ctx.deps.askAgents(master);
    if (asked > 0) this.#ctx.deps.log({ level: 'info', message: `${this.name}: asked ${asked} agent(s) whether they reach ${master}` });
  }

  /** Journals the planned failover, then runs it. Called holding the cluster. */
  async #begin(decided: Extract<Plan, { kind: 'promote' }>, trigger: 'auto' | 'manual', reason: string, startedAt: Date, force = false): Promise<FailoverRecord> {
    const { now, keeper } = this.#ctx.deps;
    const master = this.#ctx.master();
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
    this.#ctx.deps.log({ level: 'warn', message: `${this.name}: failing over from ${master.name}: ${decided.sentence}` });
    const running: RunningFailover = { record, target: decided.target, donor: decided.donor, force };
    // Journaled before the first action: from here on a restarted controller finishes it.
    await keeper.beginFailover(this.name, running);
    return this.#execute(running);
  }

  /** Runs a journaled failover to its end. Called holding the cluster. */
  async #execute(running: RunningFailover): Promise<FailoverRecord> {
    const ctx = this.#ctx;
    const executor = new FailoverExecutor(ctx.executorDeps(), running, ctx.fencer);
    // The old master is on the fenced list from now on: the fencer tries it at once, not at its next round.
    ctx.fencer.wake();
    try {
      const record = await executor.run();
      if (record.outcome === 'failed') this.#memory = afterFailure(this.#memory, running.target, ctx.deps.now());
      return record;
    } finally {
      this.#pings = { consecutiveFailures: 0 };
      ctx.view.forgetHealth();
    }
  }
}
