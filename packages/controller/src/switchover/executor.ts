import type { SwitchoverResponse, SwitchoverStep } from '@pullover/protocol';
import { awaitAgents } from '../agents/convergence.js';
import { describeCause } from '../errors.js';
import type { ExecutorDeps } from '../failover/executor.js';
import { fenceServer, runningWrites, unfenceServer } from '../failover/fence.js';
import { repointChecked } from '../failover/repoint.js';
import { StepRunner } from '../failover/step-runner.js';
import { gtidContains, gtidMissing } from '../mysql/gtid.js';
import { promoteServer } from '../mysql/promote.js';
import type { MysqlSession } from '../mysql/session.js';
import type { RunningSwitchover, SwitchoverReached, SwitchoverRecord } from '../state/schema.js';

/** What a switchover needs is what a failover needs. */
export type SwitchoverDeps = ExecutorDeps;

export interface SwitchoverPlan {
  readonly oldMaster: string;
  readonly target: string;
  readonly repoint: readonly string[];
  readonly checks: readonly string[];
  readonly catchupTimeoutS: number;
  readonly reason: string | undefined;
}

/**
 * How long the old master's read_only may wait for running writes. New writes queue behind it
 * meanwhile, so this is part of the write-blocked window; past it the switchover is rolled back.
 */
const FENCE_WAIT_S = 1;

/** A write statement running this long on the master refuses the switchover up front (MHA's running_updates_limit). */
const LONG_WRITE_S = 1;

/**
 * Why the master cannot be switched over now, or undefined: writes running long enough that
 * read_only would wait for them past its bound. Refused rather than killed: an operator's batch
 * or migration would be rolled back (an InnoDB rollback can take longer than the work did, a
 * MyISAM write is left half done), and whether it may be is the operator's call, not ours.
 */
export async function longWritesProblem(deps: SwitchoverDeps, master: string): Promise<string | undefined> {
  const session = await deps.observer.session(master);
  const writes = await runningWrites(session, LONG_WRITE_S);
  if (writes.length === 0) return undefined;
  return `${master} (the master) is running writes that read_only would wait for: ${writes.join('; ')}; let them finish or end them (KILL), then switch over`;
}

/**
 * A planned switchover: journaled → old master read_only (bounded) and its clients killed → the
 * target executes everything the old master had → promote → publish → the old master and the
 * other replicas replicate from the target. Any step that fails before "published" is undone:
 * the old master is writable again and the target (if it was promoted) replicates from it.
 */
export async function runSwitchover(deps: SwitchoverDeps, plan: SwitchoverPlan): Promise<SwitchoverResponse> {
  const journal: RunningSwitchover = {
    started_at: deps.now().toISOString(),
    old_master: plan.oldMaster,
    target: plan.target,
    repoint: [...plan.repoint],
    checks: [...plan.checks],
    reason: plan.reason ?? null,
    reached: 'started',
    old_master_gtid: null,
    write_blocked_at: null,
    write_blocked_ms: null,
    version: null,
    steps: [],
  };
  // Journaled before the first action: from here on a restarted controller undoes or finishes it.
  await deps.keeper.saveSwitchover(deps.cluster.name, journal);
  return new Switchover(deps, journal).run(plan.catchupTimeoutS);
}

/** A switchover journaled by a controller that died: rolled back before "published", finished from there on. */
export function resumeSwitchover(deps: SwitchoverDeps, journal: RunningSwitchover): Promise<SwitchoverResponse> {
  return new Switchover(deps, journal).resume();
}

class Switchover {
  readonly #deps: SwitchoverDeps;
  #journal: RunningSwitchover;
  readonly #steps: StepRunner<SwitchoverStep>;
  /** When the old master's writes were blocked, in this process (undefined after a restart). */
  #blockedAt: number | undefined;

  constructor(deps: SwitchoverDeps, journal: RunningSwitchover) {
    this.#deps = deps;
    this.#journal = journal;
    this.#steps = new StepRunner(`switchover ${deps.cluster.name}`, deps.log, deps.now, journal.steps);
  }

  async run(catchupTimeoutS: number): Promise<SwitchoverResponse> {
    const { observer } = this.#deps;
    const { old_master: oldName, target: targetName } = this.#journal;
    const undone = await this.#steps.run<SwitchoverResponse | undefined>(
      async () => {
        const old = await observer.session(oldName);
        const target = await observer.session(targetName);
        this.#blockedAt = performance.now();
        const blockedAt = this.#deps.now().toISOString();
        const { killed } = await fenceServer(old, { waitS: FENCE_WAIT_S });
        const gtid = await executed(old);
        this.#step('write-blocked', `${oldName} read_only, ${killed} client connection(s) killed, at ${gtid || 'empty'}`);
        await this.#save('write-blocked', { old_master_gtid: gtid, write_blocked_at: blockedAt });
        await this.#catchUp(target, gtid, catchupTimeoutS);
        await this.#save('promoting');
        const semisync = await promoteServer(target, this.#replicationTimeoutMs, true);
        this.#step('promoted', `${targetName} is writable${semisync ? ` (${semisync})` : ''}`);
        await this.#publish();
        return undefined;
      },
      (error) => this.#undo(error),
    );
    // Published: from here on it is only finished, never undone.
    return undone ?? this.#finish();
  }

  async resume(): Promise<SwitchoverResponse> {
    const { keeper, cluster } = this.#deps;
    const { reached } = this.#journal;
    const master = keeper.state.clusters[cluster.name]?.master;
    const expected = reached === 'published' ? this.#journal.target : this.#journal.old_master;
    if (master !== expected) {
      // A failover or set-master moved the master meanwhile: going on would make a second writable server.
      this.#step('resumed', `found at ${reached}, but the master is ${master} now: left as it is`);
      return this.#file(reached === 'published' ? 'done' : 'rolled-back', `superseded: the master moved to ${master} before the switchover was over`);
    }
    this.#step('resumed', `a previous controller stopped at ${reached}: ${reached === 'published' ? 'finishing it' : 'undoing it'}`);
    if (reached === 'published') return this.#finish();
    return this.#undo(`the controller stopped (at ${reached}) before ${this.#journal.target} was published`);
  }

  get #replicationTimeoutMs(): number {
    return this.#deps.cluster.failover.catchup_timeout;
  }

  #step(name: SwitchoverStep['name'], detail: string, failed = false): void {
    this.#steps.done(name, detail, { failed, warn: name === 'rolled-back' || name === 'resumed' });
    this.#journal = { ...this.#journal, steps: [...this.#steps.steps] };
  }

  async #save(reached: SwitchoverReached, change: Partial<RunningSwitchover> = {}): Promise<void> {
    this.#journal = { ...this.#journal, ...change, reached };
    await this.#deps.keeper.saveSwitchover(this.#deps.cluster.name, this.#journal);
  }

  async #catchUp(target: MysqlSession, gtid: string, timeoutS: number): Promise<void> {
    const goal = `${target.endpoint.name} did not reach ${gtid}`;
    if (gtid !== '') {
      const wait = target.dialect.waitForGtid(gtid, timeoutS);
      const [row] = await target.query<{ r: unknown }[]>(wait, (timeoutS + 5) * 1000).catch((error: unknown) => {
        throw new Error(`${goal}: ${describeCause(error)}`, { cause: error });
      });
      if (Number(row?.r) !== 0) throw new Error(`${goal} within ${timeoutS} s`);
    }
    this.#step('caught-up', `${target.endpoint.name} executed everything up to ${gtid || 'empty'}`);
  }

  async #publish(): Promise<void> {
    const { keeper, cluster } = this.#deps;
    const blockedMs = this.#blockedMs();
    this.#journal = { ...this.#journal, write_blocked_ms: blockedMs };
    const version = await keeper.publishSwitchover(cluster.name, this.#journal);
    this.#journal = { ...this.#journal, reached: 'published', version };
    const window = blockedMs === null ? '' : `; writes were blocked for ${blockedMs} ms`;
    this.#step('published', `${cluster.master_hostnames.join(', ')} → ${this.#journal.target}, version ${version}${window}`);
  }

  /** Since the old master's read_only was asked for: precisely in this process, by the wall clock after a restart. */
  #blockedMs(): number | null {
    if (this.#blockedAt !== undefined) return Math.round(performance.now() - this.#blockedAt);
    const at = this.#journal.write_blocked_at;
    return at === null ? null : Math.max(0, this.#deps.now().getTime() - Date.parse(at));
  }

  /** After "published": every other server replicates from the target, checked, and the agents are awaited. */
  async #finish(): Promise<SwitchoverResponse> {
    const { observer, registry, cluster, now } = this.#deps;
    const { target: targetName, old_master: oldName, version } = this.#journal;
    const agents = awaitAgents(registry, version ?? 0, cluster.failover.agents_timeout, now());
    const target = observer.server(targetName);
    // Each server's executed set must be contained in this: none is put on top of transactions the target lacks.
    const position = await observer.session(targetName).then(executed);
    const results = await Promise.all(
      this.#journal.repoint.map((name) => {
        const opts = { formerMaster: name === oldName, timeoutMs: this.#replicationTimeoutMs };
        return repointChecked(this.#deps, name, target, position, opts);
      }),
    );
    this.#step('repointed', results.map((r) => r.detail).join('; ') || 'no other server', results.some((r) => !r.ok));
    this.#step('agents-applied', await agents);
    return this.#file('done');
  }

  /**
   * Before "published": the old master takes the writes again. A target that may have been
   * promoted is made read-only and put back under the old master first (never two writable
   * servers); one that cannot be is kept fenced, since it may come back writable. A promoted
   * target that took writes of its own is the exception: it holds everything the old master had
   * at write-block and more, so the switchover is finished instead — undoing it would strand them.
   */
  async #undo(error: string): Promise<SwitchoverResponse> {
    const { observer, cluster } = this.#deps;
    const { old_master: oldName, target: targetName, reached } = this.#journal;
    const oldGtid = this.#journal.old_master_gtid ?? '';
    const own = reached === 'promoting' ? await this.#ownWrites(oldGtid) : '';
    if (own) {
      this.#step('resumed', `${error}, but ${targetName} took writes of its own after it was promoted (${own}): finishing the switchover instead of rolling it back`);
      await this.#publish();
      return this.#finish();
    }
    this.#deps.log({ level: 'warn', message: `switchover ${cluster.name} ${oldName} → ${targetName} failed: ${error}; rolling back` });
    const parts = [`${oldName} is writable again`];
    const fence: string[] = [];
    if (reached === 'promoting') {
      const oldServer = observer.server(oldName);
      const opts = { formerMaster: true, timeoutMs: this.#replicationTimeoutMs };
      const checked = await repointChecked(this.#deps, targetName, oldServer, oldGtid, opts);
      parts.push(checked.detail);
      if (!checked.ok) {
        fence.push(targetName);
        parts.push(`${targetName} stays fenced: it is made read_only the moment it answers`);
      }
    } else {
      parts.push('nothing else changed');
    }
    await unfenceServer(await observer.session(oldName));
    this.#step('rolled-back', `${error}: ${parts.join('; ')}`);
    return this.#file('rolled-back', error, fence);
  }

  /** The transactions a promoted target executed that the old master lacks, or '' (also when it cannot be asked). */
  async #ownWrites(oldGtid: string): Promise<string> {
    const seen = await this.#deps.observer.observe(this.#journal.target);
    if (!seen.reachable || seen.replica !== null || seen.flavor === undefined) return '';
    const mine = seen.executedGtid ?? '';
    return gtidContains(seen.flavor, oldGtid, mine) ? '' : gtidMissing(seen.flavor, mine, oldGtid);
  }

  async #file(outcome: SwitchoverRecord['outcome'], error?: string, fence: readonly string[] = []): Promise<SwitchoverResponse> {
    const { cluster, keeper, now } = this.#deps;
    const j = this.#journal;
    const response: SwitchoverResponse = {
      cluster: cluster.name,
      old_master: j.old_master,
      new_master: j.target,
      outcome,
      checks: j.checks,
      steps: j.steps,
      write_blocked_ms: outcome === 'rolled-back' ? this.#blockedMs() : j.write_blocked_ms,
      version: j.version,
      ...(error ? { error } : {}),
    };
    const record = { ...response, started_at: j.started_at, finished_at: now().toISOString() };
    await keeper.finishSwitchover(cluster.name, record, fence);
    return response;
  }
}

async function executed(session: MysqlSession): Promise<string> {
  const [row] = await session.query<{ gtid: string }[]>(session.dialect.overview);
  return String(row?.gtid ?? '');
}
