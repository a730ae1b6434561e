import type { ClusterConfig, ServerConfig } from '../config/load.js';
import type { LogLine } from '../log-line.js';
import { gtidContains } from '../mysql/gtid.js';
import { stopReceiving } from '../mysql/receiver.js';
import { replicateFrom, sourceFor } from '../mysql/replicate.js';
import type { MysqlSession } from '../mysql/session.js';
import type { ClusterObserver } from '../topology/observer.js';
import { receivedGtid } from '../topology/observation.js';
import type { FenceKeeper } from './fence-keeper.js';
import { cannotDonate, mostAdvanced } from './planner.js';

/** The failover cannot go on: the sentence says why. */
export class FailoverAborted extends Error {}

export interface CatchUpDeps {
  readonly cluster: ClusterConfig;
  readonly observer: ClusterObserver;
  readonly replication: { readonly user: string; readonly password: string };
  readonly log: (line: LogLine) => void;
}

/**
 * Nothing any survivor received, nor anything the old master executed where it answered, is lost:
 * the survivors stop receiving from the old master (so that one waking up cannot move the goal
 * after it was read), and the target applies the most advanced holding, from its own relay log
 * or from a donor. One per failover: it remembers what the old master was found to have executed.
 */
export class CatchUp {
  /** The old master's executed position once fenced, when it answered: nothing it executed may be lost. */
  #oldExecuted: string | undefined;
  readonly #startedMs = performance.now();

  constructor(
    private readonly deps: CatchUpDeps,
    private readonly old: ServerConfig,
    /** Every server that may take part: neither the old master nor a fenced former master. */
    private readonly survivors: readonly ServerConfig[],
    /** Keeps trying the old master in the background: what it finds there before promotion is not lost. */
    private readonly fenceKeeper: FenceKeeper,
  ) {}

  /** Statements that wait on replication get the catch-up bound: an IO thread may be stuck on a hung master. */
  get #timeoutMs(): number {
    return this.deps.cluster.failover.catchup_timeout;
  }

  /** The fence reached the old master: what it executed joins the goal. */
  oldMasterAnswered(executed: string): void {
    this.#oldExecuted = executed;
  }

  /** Survivors replicating from the old master stop receiving; resolves with their names (those that could not be reached take no part). */
  async freeze(): Promise<string[]> {
    const stopped = await Promise.all(this.survivors.map(async (s) => {
      try {
        const session = await this.deps.observer.session(s.name);
        const [status] = await session.query<Record<string, unknown>[]>(session.dialect.replicaStatus);
        // A resumed failover may find it repointed at the new master already: that is left alone.
        if (!status || session.dialect.parseReplicaStatus(status).masterHost !== this.old.address) return '';
        await stopReceiving(session, this.#timeoutMs);
        return s.name;
      } catch {
        return '';
      }
    }));
    return stopped.filter((n) => n !== '');
  }

  /** The failover stopped before promotion: the survivors receive from the old master again, should it come back. */
  async unfreeze(frozen: readonly string[]): Promise<void> {
    await Promise.all(frozen.map(async (name) => {
      const session = await this.deps.observer.session(name);
      await session.query(session.dialect.startReceiving);
    }).map((p) => p.catch(() => undefined)));
  }

  /**
   * Whether the old master, silent at the fence, was fenced since by the fence keeper (it woke up:
   * SIGCONT, a VM resumed, a partition healed): what it executed then joins the goal. It may hold
   * writes acknowledged after semi-sync fell back to async that no survivor received.
   */
  async oldMasterWoke(): Promise<boolean> {
    if (this.#oldExecuted !== undefined) return false;
    const executed = await this.fenceKeeper.fencedSince(this.old.name, this.#startedMs);
    if (executed === undefined) return false;
    this.#oldExecuted = executed;
    this.deps.log({ level: 'warn', message: `failover ${this.deps.cluster.name}: ${this.old.name} woke up and was fenced, at ${executed || 'empty'}: the new master applies that too` });
    return true;
  }

  /**
   * The target applies everything any survivor received, and everything the fenced old master
   * executed when it answered. `frozen`: the survivors that stopped receiving. Resolves with the
   * step's sentence.
   */
  async run(target: ServerConfig, frozen: readonly string[]): Promise<string> {
    const { observer } = this.deps;
    const timeoutS = Math.max(1, Math.ceil(this.#timeoutMs / 1000));
    const session = await observer.session(target.name);
    const [status] = await session.query<Record<string, unknown>[]>(session.dialect.replicaStatus);
    // No replication left: a resumed failover that already promoted it.
    if (!status) return `${target.name} already replicates from nobody`;
    await this.oldMasterWoke();
    const seen = await observer.observeAll(this.survivors.map((s) => s.name));
    const holders = seen.filter((o) => o.reachable).map((o) => ({ name: o.name, gtid: receivedGtid(o) }));
    const old = this.old;
    if (this.#oldExecuted !== undefined) holders.push({ name: old.name, gtid: this.#oldExecuted });
    const flavor = session.dialect.flavor;
    const found = mostAdvanced(flavor, holders);
    if (found.kind === 'diverged') throw new FailoverAborted(found.sentence);
    const mine = receivedGtid(seen.find((o) => o.name === target.name) ?? { name: target.name, address: '', at: new Date(), reachable: false });
    const stopped = `${frozen.join(', ') || 'no survivor'} stopped receiving from ${old.name}`;
    if (gtidContains(flavor, mine, found.best.gtid)) {
      await waitApplied(session, mine, timeoutS);
      return `${stopped}; ${target.name} applied its relay log up to ${mine || 'empty'}`;
    }
    const donor = found.best;
    if (donor.name !== old.name) {
      const donorObservation = seen.find((o) => o.name === donor.name);
      const problem = donorObservation ? cannotDonate(donorObservation) : 'is gone';
      if (problem) throw new FailoverAborted(`${donor.name} alone holds ${donor.gtid} but ${problem}: ${target.name} cannot get them`);
      const donorSession = await observer.session(donor.name);
      // A donor's SQL thread stopped by hand still has to apply what it holds before it can serve it.
      await donorSession.query(donorSession.dialect.startApplying);
      await waitApplied(donorSession, donor.gtid, timeoutS);
    }
    const from = sourceFor(this.deps.cluster, observer.server(donor.name), this.deps.replication);
    await replicateFrom(session, from, { timeoutMs: this.#timeoutMs });
    await waitApplied(session, donor.gtid, timeoutS);
    return `${stopped}; ${target.name} caught up from ${donor.name === old.name ? `${old.name} (it answered, fenced)` : donor.name} to ${donor.gtid}`;
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
