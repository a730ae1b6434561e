import type { FailoverRecord, FailoverStep, FailoverStepName } from '@pullover/protocol';
import { awaitAgents } from '../agents/convergence.js';
import type { AgentRegistry } from '../agents/registry.js';
import type { ClusterConfig, ServerConfig } from '../config/load.js';
import { describeCause } from '../errors.js';
import type { LogLine } from '../log-line.js';
import { replicateFrom } from '../mysql/replicate.js';
import type { MysqlSession } from '../mysql/session.js';
import type { RunningFailover } from '../state/schema.js';
import type { StateKeeper } from '../state/keeper.js';
import type { ClusterObserver } from '../topology/observer.js';
import { receivedGtid } from '../topology/observation.js';
import { describeResult, type FailoverDetails, mhaArguments, runCommand } from './commands.js';
import { fenceServer } from './fence.js';

export interface ExecutorDeps {
  readonly cluster: ClusterConfig;
  readonly keeper: StateKeeper;
  readonly observer: ClusterObserver;
  readonly registry: AgentRegistry;
  readonly replication: { readonly user: string; readonly password: string };
  readonly log: (line: LogLine) => void;
  readonly now: () => Date;
}

class FailoverAborted extends Error {}

/**
 * Carries out a planned failover, in DESIGN's order: fence → catch up → promote → repoint →
 * publish → wait for the agents. Every step is safe to run again: a controller killed at any
 * point resumes the journaled failover from the top, and what was done is found done.
 */
export class FailoverExecutor {
  readonly #deps: ExecutorDeps;
  #record: FailoverRecord;
  readonly #running: RunningFailover;
  #stepStarted = performance.now();

  constructor(deps: ExecutorDeps, running: RunningFailover) {
    this.#deps = deps;
    this.#running = running;
    this.#record = running.record;
  }

  get record(): FailoverRecord {
    return this.#record;
  }

  async run(): Promise<FailoverRecord> {
    const { keeper, cluster } = this.#deps;
    const target = this.#server(this.#running.target);
    const old = this.#server(this.#record.old_master);
    try {
      await this.#fence(old);
      await this.#catchUp(target);
      await this.#promote(target);
      await this.#repoint(target);
      const version = await keeper.publishFailover(cluster.name, this.#record, target.name);
      this.#record = { ...this.#record, version };
      this.#step('published', `${cluster.master_hostnames.join(', ')} → ${target.name} (${target.address}), version ${version}`);
      void this.#afterHooks(old, target);
      await this.#waitForAgents(version);
      this.#record = { ...this.#record, outcome: 'done', finished_at: this.#deps.now().toISOString() };
    } catch (error) {
      const message = describeCause(error);
      this.#record = { ...this.#record, outcome: 'failed', error: message, finished_at: this.#deps.now().toISOString() };
      this.#deps.log({ level: 'warn', message: `failover ${cluster.name} ${old.name} → ${target.name} failed: ${message}` });
    }
    await keeper.finishFailover(cluster.name, this.#record);
    return this.#record;
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

  #step(name: FailoverStepName, detail: string): void {
    const ms = Math.round(performance.now() - this.#stepStarted);
    const step: FailoverStep = { name, at: this.#deps.now().toISOString(), ms, detail };
    this.#record = { ...this.#record, steps: [...this.#record.steps, step] };
    this.#deps.log({ level: 'info', message: `failover ${this.#deps.cluster.name}: ${name} in ${ms} ms: ${detail}` });
    this.#stepStarted = performance.now();
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
    const queued = observer.takeStandby(old.name);
    try {
      const session = await observer.session(old.name);
      const { wasWritable, killed } = await fenceServer(session);
      parts.push(`${old.name} ${wasWritable ? 'made read_only' : 'was read_only'}, ${killed} client connection(s) killed`);
      queued?.destroy();
    } catch (error) {
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
    if (failover.mha_failover_script) {
      const r = await runCommand(failover.mha_failover_script, this.#details('fence', old, null), failover.command_timeout, mhaArguments('stop', this.#details('fence', old, null)));
      parts.push(describeResult('master_ip_failover_script --command=stop', r));
    }
    if (failover.fence_command) {
      const r = await runCommand(failover.fence_command, this.#details('fence', old, null), failover.command_timeout);
      parts.push(describeResult('fence_command', r));
    }
    this.#step('fenced', parts.join('; '));
  }

  async #catchUp(target: ServerConfig): Promise<void> {
    const { observer, cluster } = this.#deps;
    const timeoutS = Math.max(1, Math.ceil(cluster.failover.catchup_timeout / 1000));
    const session = await observer.session(target.name);
    const [status] = await session.query<Record<string, unknown>[]>(session.dialect.replicaStatus);
    if (!status) {
      // No replication left: a resumed failover that already promoted it.
      this.#step('caught-up', `${target.name} already replicates from nobody`);
      return;
    }
    const donorName = this.#running.donor;
    if (donorName) {
      const donor = await observer.observe(donorName);
      if (!donor.reachable) throw new FailoverAborted(`${donorName}, which holds transactions ${target.name} lacks, became unreachable`);
      const donorSession = await observer.session(donorName);
      await waitApplied(donorSession, receivedGtid(donor), timeoutS);
      const [pos] = await donorSession.query<{ gtid: string }[]>(donorSession.dialect.overview);
      await this.#replicateFrom(session, this.#server(donorName));
      await waitApplied(session, String(pos?.gtid ?? ''), timeoutS);
      this.#step('caught-up', `${target.name} caught up from ${donorName} to ${pos?.gtid}`);
      return;
    }
    const received = session.dialect.parseReplicaStatus(status).receivedGtid;
    await waitApplied(session, received, timeoutS);
    this.#step('caught-up', `${target.name} applied its relay log up to ${received || 'empty'}`);
  }

  async #promote(target: ServerConfig): Promise<void> {
    const session = await this.#deps.observer.session(target.name);
    await session.run(session.dialect.promote, this.#replicationTimeoutMs);
    const [row] = await session.query<{ read_only: string | number; gtid: string }[]>(session.dialect.overview);
    if (Number(row?.read_only) === 1) throw new FailoverAborted(`${target.name} is still read_only after promotion`);
    this.#step('promoted', `${target.name} is writable at ${row?.gtid || 'empty'}`);
  }

  async #repoint(target: ServerConfig): Promise<void> {
    const { observer } = this.#deps;
    // Former masters stay fenced and out of replication until rejoined: their data may have diverged.
    const fenced = this.#deps.keeper.failoverState(this.#deps.cluster.name).fenced;
    const others = this.#deps.cluster.servers.filter((s) => s.name !== target.name && !fenced.includes(s.name));
    const results = await Promise.all(
      others.map(async (s) => {
        try {
          const session = await observer.session(s.name);
          const [status] = await session.query<Record<string, unknown>[]>(session.dialect.replicaStatus);
          const current = status ? session.dialect.parseReplicaStatus(status) : null;
          if (current?.masterHost === target.address && current.io !== 'no') return `${s.name} already replicates from it`;
          await this.#replicateFrom(session, target);
          return `${s.name} repointed`;
        } catch (error) {
          return `${s.name} NOT repointed (${describeCause(error)}); repoint it by hand`;
        }
      }),
    );
    this.#step('repointed', results.length > 0 ? results.join('; ') : 'no other replica');
  }

  async #waitForAgents(version: number): Promise<void> {
    const { registry, cluster, now } = this.#deps;
    this.#step('agents-applied', await awaitAgents(registry, version, cluster.failover.agents_timeout, now()));
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

  #replicateFrom(session: MysqlSession, source: ServerConfig): Promise<void> {
    const from = { host: source.address, port: this.#deps.cluster.mysql.port, ...this.#deps.replication };
    return replicateFrom(session, from, { timeoutMs: this.#replicationTimeoutMs });
  }
}

async function waitApplied(session: MysqlSession, gtid: string, timeoutS: number): Promise<void> {
  if (gtid === '') return;
  const wait = session.dialect.waitForGtid(gtid, timeoutS);
  const [row] = await session.query<{ r: unknown }[]>(wait, (timeoutS + 5) * 1000);
  if (Number(row?.r) !== 0) {
    throw new FailoverAborted(`${session.endpoint.name} did not apply ${gtid} within ${timeoutS} s (is its SQL thread running?)`);
  }
}

/** Sends the fence on a hung server's open socket and logs when (if ever) the server runs it. */
function queueFence(session: MysqlSession, log: (line: LogLine) => void, cluster: string): void {
  const name = session.endpoint.name;
  // No timeout: the statement waits in the socket for as long as the server sleeps.
  session.run(session.dialect.fence, 0).then(
    () => {
      log({ level: 'warn', message: `${cluster}: ${name} woke up and ran the read_only queued for it` });
      session.destroy();
    },
    () => session.destroy(),
  );
}
