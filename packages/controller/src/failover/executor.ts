import type { FailoverRecord, FailoverStep } from '@pullover/protocol';
import { awaitAgents } from '../agents/convergence.js';
import type { AgentRegistry } from '../agents/registry.js';
import type { ClusterConfig, ServerConfig } from '../config/load.js';
import { describeCause } from '../errors.js';
import type { LogLine } from '../log-line.js';
import { promoteServer } from '../mysql/promote.js';
import { failureOf, type MysqlSession } from '../mysql/session.js';
import type { RunningFailover } from '../state/schema.js';
import type { StateKeeper } from '../state/keeper.js';
import type { ClusterObserver } from '../topology/observer.js';
import { type CommandResult, describeResult, type FailoverDetails, mhaArguments, runCommand } from './commands.js';
import { CatchUp, FailoverAborted } from './catch-up.js';
import { fenceServer } from './fence.js';
import type { FenceKeeper } from './fence-keeper.js';
import { repointServer, verifyReplicating } from './repoint.js';
import { StepRunner } from './step-runner.js';

export interface ExecutorDeps {
  readonly cluster: ClusterConfig;
  readonly keeper: StateKeeper;
  readonly observer: ClusterObserver;
  readonly registry: AgentRegistry;
  readonly replication: { readonly user: string; readonly password: string };
  readonly log: (line: LogLine) => void;
  readonly now: () => Date;
}

/**
 * How long the fence waits for the old master's greeting. A live mysqld greets within milliseconds;
 * the detector already spent several monitor timeouts on a silent one, and the fencer goes on
 * trying it in the background, so the failover does not wait for it longer.
 */
const FENCE_REACH_MS = 250;

/**
 * Carries out a planned failover: fence → catch up → promote → repoint →
 * publish → wait for the agents. Every step is safe to run again: a controller killed at any
 * point resumes the journaled failover from the top, and what was done is found done.
 */
export class FailoverExecutor {
  readonly #deps: ExecutorDeps;
  #record: FailoverRecord;
  readonly #running: RunningFailover;
  readonly #steps: StepRunner<FailoverStep>;
  /** The new master's executed position right after promotion: every repointed replica must be contained in it. */
  #promotedAt = '';
  readonly #catchUp: CatchUp;

  /** `fenceKeeper` keeps trying the old master in the background: what it finds there before promotion is not lost. */
  constructor(deps: ExecutorDeps, running: RunningFailover, fenceKeeper: FenceKeeper) {
    this.#deps = deps;
    this.#running = running;
    this.#record = running.record;
    this.#steps = new StepRunner(`failover ${deps.cluster.name}`, deps.log, deps.now, running.record.steps);
    this.#catchUp = new CatchUp(deps, this.#server(running.record.old_master), this.#survivors(), fenceKeeper);
  }

  get record(): FailoverRecord {
    return { ...this.#record, steps: [...this.#steps.steps] };
  }

  async run(): Promise<FailoverRecord> {
    const { keeper, cluster } = this.#deps;
    const target = this.#server(this.#running.target);
    const old = this.#server(this.#record.old_master);
    // Survivors stop receiving from the old master beside the fence: a master that wakes up
    // meanwhile cannot move the goal after it was read. Undone if the failover stops before promotion.
    const freezing = this.#catchUp.freeze();
    let promoted = false;
    await this.#steps.run(
      async () => {
        await this.#fence(old);
        this.#steps.done('caught-up', await this.#catchUp.run(target, await freezing));
        // A master that woke up by now was fenced by the fence keeper: what it executed is applied
        // before there are two writable servers. One still silent acknowledges nothing alone.
        if (await this.#catchUp.oldMasterWoke()) this.#steps.done('caught-up', await this.#catchUp.run(target, await freezing));
        await this.#promote(target);
        promoted = true;
        const repointed = await this.#repoint(target);
        const version = await keeper.publishFailover(cluster.name, this.record, target.name);
        this.#record = { ...this.#record, version };
        this.#steps.done('published', `${cluster.master_hostnames.join(', ')} → ${target.name} (${target.address}), version ${version}`);
        void this.#afterHooks(old, target);
        // Checked while the agents apply the new version: the app servers need not wait for it.
        await Promise.all([this.#waitForAgents(version), this.#verifyRepointed(repointed, target)]);
        this.#record = { ...this.#record, outcome: 'done', finished_at: this.#deps.now().toISOString() };
      },
      async (message) => {
        this.#record = { ...this.#record, outcome: 'failed', error: message, finished_at: this.#deps.now().toISOString() };
        this.#deps.log({ level: 'warn', message: `failover ${cluster.name} ${old.name} → ${target.name} failed: ${message}` });
        if (!promoted) await this.#catchUp.unfreeze(await freezing);
      },
    );
    await keeper.finishFailover(cluster.name, this.record);
    return this.record;
  }

  /**
   * STOP SLAVE waits for the IO thread, and an IO thread stuck connecting to a hung master gives up
   * only after slave_net_timeout (60 s by default): these statements get the catch-up bound, not
   * the monitor's ping timeout.
   */
  get #replicationTimeoutMs(): number {
    return this.#deps.cluster.failover.catchup_timeout;
  }

  #server(name: string): ServerConfig {
    return this.#deps.observer.server(name);
  }

  #details(event: FailoverDetails['event'], old: ServerConfig, target: ServerConfig | null): FailoverDetails {
    const port = this.#deps.cluster.mysql.port;
    return {
      cluster: this.#deps.cluster.name,
      event,
      old_master: { name: old.name, address: old.address, port },
      new_master: target ? { name: target.name, address: target.address, port } : null,
      hostnames: [...this.#deps.cluster.master_hostnames],
      failover_id: this.#record.id,
      reason: this.#record.reason,
    };
  }

  async #fence(old: ServerConfig): Promise<void> {
    const { observer, cluster } = this.#deps;
    const parts: string[] = [];
    // A hung server still holds our open socket: a fence queued there runs the moment it wakes,
    // ahead of anything a reconnecting client could send.
    const queued = observer.takeIdleConnection(old.name);
    // Proven gone: its host refused the connection, so no mysqld listens there to take a write.
    let gone = false;
    try {
      const session = await observer.session(old.name, observer.timeoutMs, FENCE_REACH_MS);
      const { wasWritable, killed } = await fenceServer(session);
      const [row] = await session.query<{ gtid: string }[]>(session.dialect.overview);
      const executed = String(row?.gtid ?? '');
      this.#catchUp.oldMasterAnswered(executed);
      parts.push(`${old.name} ${wasWritable ? 'made read_only' : 'was read_only'}, ${killed} client connection(s) killed, at ${executed || 'empty'}`);
      queued?.destroy();
    } catch (error) {
      gone = failureOf(old.name, error).kind === 'refused';
      parts.push(`${old.name} unreachable (${describeCause(error)}): fenced the moment it answers again`);
      if (queued) {
        parts.push('read_only queued on its open connection');
        queueFence(queued, this.#deps.log, cluster.name);
      }
    }
    const failover = cluster.failover;
    if (failover.hooks?.before) {
      const r = await runCommand(failover.hooks.before, this.#details('before', old, this.#server(this.#running.target)), failover.command_timeout);
      parts.push(describeResult('before hook', r));
    }
    const fences: [string, CommandResult][] = [];
    if (failover.mha_failover_script) {
      const r = await runCommand(failover.mha_failover_script, this.#details('fence', old, null), failover.command_timeout, mhaArguments('stop', this.#details('fence', old, null)));
      fences.push(['master_ip_failover_script --command=stop', r]);
    }
    if (failover.fence_command) {
      fences.push(['fence_command', await runCommand(failover.fence_command, this.#details('fence', old, null), failover.command_timeout)]);
    }
    for (const [what, r] of fences) parts.push(describeResult(what, r));
    const failed = fences.filter(([, r]) => r.code !== 0 || r.timedOut).map(([what]) => what);
    if (failed.length > 0) {
      // MHA stops here too: a master that may still take writes must not get a twin.
      if (gone) parts.push(`going on: ${old.name}'s host refused the connection, no mysqld runs there`);
      else if (this.#running.force) parts.push('going on: forced by the operator (failover --force)');
      else {
        this.#steps.done('fenced', parts.join('; '), { failed: true });
        throw new FailoverAborted(`${failed.join(' and ')} failed, so ${old.name} may still take writes: make sure it is down (or fix the fence), then run pullover-controller failover --cluster ${cluster.name} --force`);
      }
    }
    this.#steps.done('fenced', parts.join('; '));
  }

  /** Every server that may take part: neither fenced (the old master, former masters) nor gone from the config. */
  #survivors(): ServerConfig[] {
    const fenced = this.#deps.keeper.fencedServers(this.#deps.cluster.name);
    return this.#deps.cluster.servers.filter((s) => s.name !== this.#record.old_master && !fenced.includes(s.name));
  }

  async #promote(target: ServerConfig): Promise<void> {
    const session = await this.#deps.observer.session(target.name);
    const semisync = await promoteServer(session, this.#replicationTimeoutMs);
    const [row] = await session.query<{ read_only: string | number; gtid: string }[]>(session.dialect.overview);
    if (Number(row?.read_only) === 1) throw new FailoverAborted(`${target.name} is still read_only after promotion`);
    this.#promotedAt = String(row?.gtid ?? '');
    this.#steps.done('promoted', `${target.name} is writable at ${row?.gtid || 'empty'}${semisync ? ` (${semisync})` : ''}`);
  }

  /** Resolves with the servers repointed (checked later: verifyRepointed). */
  async #repoint(target: ServerConfig): Promise<string[]> {
    const others = this.#survivors().filter((s) => s.name !== target.name);
    const results = await Promise.all(
      others.map((s) =>
        repointServer(this.#deps, s.name, target, this.#promotedAt, { timeoutMs: this.#replicationTimeoutMs }),
      ),
    );
    const failed = results.some((r) => !r.ok);
    this.#steps.done('repointed', results.length > 0 ? results.map((r) => r.detail).join('; ') : 'no other replica', { failed });
    return results.filter((r) => r.ok).map((r) => r.name);
  }

  /** "Repointed" means both threads run on the new master: a replica that does not is a failed step, not a log line. */
  async #verifyRepointed(names: readonly string[], target: ServerConfig): Promise<void> {
    const { observer } = this.#deps;
    const results = await Promise.all(names.map((n) => verifyReplicating(observer, n, target)));
    const bad = results.filter((r) => !r.ok);
    if (bad.length > 0) this.#steps.failLater('repointed', bad.map((r) => r.detail).join('; '));
  }

  async #waitForAgents(version: number): Promise<void> {
    const { registry, cluster, now } = this.#deps;
    this.#steps.done('agents-applied', await awaitAgents(registry, version, cluster.failover.agents_timeout, now()));
  }

  async #afterHooks(old: ServerConfig, target: ServerConfig): Promise<void> {
    const failover = this.#deps.cluster.failover;
    const details = this.#details('after', old, target);
    const runs: Promise<string>[] = [];
    if (failover.mha_failover_script) {
      runs.push(runCommand(failover.mha_failover_script, details, failover.command_timeout, mhaArguments('start', details)).then((r) => describeResult('master_ip_failover_script --command=start', r)));
    }
    if (failover.hooks?.after) {
      runs.push(runCommand(failover.hooks.after, details, failover.command_timeout).then((r) => describeResult('after hook', r)));
    }
    for (const line of await Promise.all(runs)) this.#deps.log({ level: 'info', message: `failover ${this.#deps.cluster.name}: ${line}` });
  }
}

/** Sends the fence on a hung server's open socket and logs when (if ever) the server runs it. */
function queueFence(session: MysqlSession, log: (line: LogLine) => void, cluster: string): void {
  const name = session.endpoint.name;
  // No timeout: the statement waits in the socket for as long as the server sleeps. One statement
  // that kills the clients too: at the thaw, read_only would wait behind commits held for a
  // semi-sync acknowledgement, and a controller gone by then could not kill them.
  const { fenceAlone, fence } = session.dialect;
  session.unclaimed(() => session.run(fenceAlone ? [fenceAlone] : fence, 0)).then(
    () => {
      log({ level: 'warn', message: `${cluster}: ${name} woke up and ran the fence queued for it` });
      session.destroy();
    },
    () => session.destroy(),
  );
}
