import type {
  RejoinResponse,
  ReplicaHeartbeatResponse,
  SetWritableResponse,
  SwitchoverRequest,
  SwitchoverResponse,
} from '@pullover/protocol';
import { describeCause, FailoverRefused } from '../errors.js';
import { resumeSwitchover } from '../switchover/executor.js';
import { rejoin } from '../switchover/rejoin.js';
import { setReplicaHeartbeat } from '../switchover/replica-heartbeat.js';
import { requestSwitchover } from '../switchover/request.js';
import { setWritable } from '../switchover/set-writable.js';
import type { ClusterContext } from './context.js';

/**
 * An operator's changes to a live cluster (the failover of a dead master is the monitor's): each
 * takes the cluster's exclusive hold, and is refused while a failover is journaled.
 */
export class ClusterRequests {
  /** A journaled switchover is being rolled back or finished (the loop of attempts runs). */
  #resuming = false;
  #stopped = false;

  constructor(private readonly ctx: ClusterContext) {}

  stop(): void {
    this.#stopped = true;
  }

  /** The read_only master takes writes again, when no other server could hold a write it lacks. */
  async setWritable(): Promise<SetWritableResponse> {
    const { ctx } = this;
    const result = await this.#operation('set-writable', () => setWritable(ctx.executorDeps(), ctx.master().name, ctx.others()));
    const level = result.outcome === 'refused' ? 'warn' : 'info';
    ctx.deps.log({ level, message: `${ctx.name}: set-writable ${result.master}: ${result.outcome}: ${result.checks.join('; ')}` });
    return result;
  }

  /** Every replica of the master gets monitor.replica_heartbeat (those pointed by hand keep MariaDB's 30 s). */
  async setReplicaHeartbeat(): Promise<ReplicaHeartbeatResponse> {
    const { ctx } = this;
    const result = await this.#operation('a heartbeat change', () => setReplicaHeartbeat(ctx.executorDeps(), ctx.master().name, ctx.others()));
    const level = result.replicas.some((r) => r.outcome === 'failed') ? 'warn' : 'info';
    ctx.deps.log({ level, message: `${ctx.name}: replica heartbeat ${result.heartbeat_s} s: ${result.replicas.map((r) => r.detail).join('; ') || 'no replica'}` });
    return result;
  }

  /** A planned switchover (the master is alive): checked, then carried out unless `dry_run`. */
  async switchover(request: SwitchoverRequest): Promise<SwitchoverResponse> {
    const { ctx } = this;
    if (ctx.deps.keeper.failoverState(ctx.name).switchover) {
      throw new FailoverRefused(ctx.name, 'an unfinished switchover is journaled: it is being rolled back or finished (see the log)');
    }
    try {
      return await this.#operation('a switchover', () => requestSwitchover(ctx.executorDeps(), ctx.master().name, request));
    } finally {
      // Left journaled (its rollback could not finish): retried until it can.
      void this.resumeSwitchover();
    }
  }

  /** A former master or stray server becomes a replica of the master, unless it holds errant transactions. */
  async rejoin(server: string): Promise<RejoinResponse> {
    const { ctx } = this;
    ctx.observer.server(server);
    const result = await rejoin(ctx.executorDeps(), server);
    ctx.deps.log({ level: result.outcome === 'rejoined' ? 'info' : 'warn', message: `${ctx.name}: rejoin ${server}: ${result.detail}` });
    return result;
  }

  /**
   * A journaled switchover, left by a controller that died or by a rollback that could not finish
   * (the old master did not answer): rolled back, or finished once published. Tried again every
   * interval; the loop may act in between (a master that stays dead is failed over, which
   * supersedes the switchover).
   */
  async resumeSwitchover(): Promise<void> {
    if (this.#resuming) return;
    this.#resuming = true;
    const { ctx } = this;
    try {
      const journaled = () => ctx.deps.keeper.failoverState(ctx.name).switchover;
      for (let journal = journaled(); journal && !this.#stopped && ctx.observer.acting; journal = journaled()) {
        const what = `the unfinished switchover ${journal.old_master} → ${journal.target} (stopped at ${journal.reached})`;
        if (ctx.exclusive.holder === undefined) {
          try {
            const result = await ctx.exclusive.run('a switchover', () => resumeSwitchover(ctx.executorDeps(), journal));
            ctx.deps.log({ level: 'warn', message: `${ctx.name}: ${what}: ${result.outcome}${result.error ? ` (${result.error})` : ''}` });
            return;
          } catch (error) {
            ctx.say('switchover-journal', 'warn', `${ctx.name}: ${what} cannot be ${journal.reached === 'published' ? 'finished' : 'rolled back'} yet: ${describeCause(error)}; tried again every ${ctx.deps.cluster.monitor.interval} ms`);
          }
        }
        await new Promise((r) => setTimeout(r, ctx.deps.cluster.monitor.interval).unref());
      }
    } finally {
      this.#resuming = false;
    }
  }

  #operation<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.ctx.deps.keeper.failoverState(this.ctx.name).running) {
      throw new FailoverRefused(this.ctx.name, 'a failover is under way');
    }
    return this.ctx.exclusive.run(what, fn);
  }
}
