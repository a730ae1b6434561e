import type { AgentRecord, AgentRegistry } from '../agents/registry.js';
import { count } from '../events/rollout.js';
import { describeCause } from '../errors.js';
import type { LogLine } from '../log-line.js';
import { type KeyValue, op } from './codec.js';
import type { EtcdClient } from './etcd-client.js';
import {
  askOf,
  batches,
  changeOf,
  chunkOf,
  chunkOfKey,
  decodeChunk,
  encodeChunk,
  fleetKeys,
  MAX_CHUNK_BYTES,
  onlyApplied,
  type Put,
} from './fleet-codec.js';

export interface FleetShareOptions {
  readonly prefix: string;
  /** This controller's name, unique among the controllers: its records go under it. */
  readonly name: string;
  readonly registry: AgentRegistry;
  /** Ends the polls parked here (the publisher's askForReports); returns how many. */
  readonly askForReports: () => number;
  readonly log: (line: LogLine) => void;
  /**
   * How often the changed chunks are written, at most (default 500 ms). During a rollout each
   * round rewrites nearly every chunk and every other controller decodes it: fewer rounds, less CPU;
   * the leader's waits (agent grace, agents_timeout) are seconds long.
   */
  readonly flushMs?: number;
  /** A chunk whose agents only re-reported the same facts is rewritten after this long. */
  readonly refreshMs?: number;
  /** After an ask, re-reports are written at once for this long: the detector waits on their probes. */
  readonly urgentMs?: number;
  /** Pause before the watch is started again after it failed. */
  readonly retryMs?: number;
}

// A watch whose member went silent (paused, cut off) keeps its stream open: when our own write
// has not come back through it for this long, it is started again from a fresh read.
const STALL_MS = 3000;
/** More acknowledgements than this since the last flush round: a rollout has begun (see #due). */
const ROLLOUT_ACKS = 100;
const ACK_HOLD_MS = 3000;

/**
 * Every controller on one etcd sees every agent, though each agent polls and reports to one of
 * them: each controller writes the records of the agents it heard itself under
 * `fleet/agents/<name>/<chunk>`, and takes the others' records into its registry from one watch
 * of `fleet/`. The keys are bound to no lease: records age by their received_at (AGENT_LIVE_MS)
 * wherever they are read, and a controller that restarts, or leads after the one that held half
 * the fleet died, reads the last known records at once instead of an empty fleet.
 * The leader's ask (`fleet/ask`) makes every other controller end the polls parked on it.
 */
export class FleetShare {
  readonly #client: EtcdClient;
  readonly #options: Required<FleetShareOptions>;
  readonly #keys: ReturnType<typeof fleetKeys>;
  readonly #stop = new AbortController();
  /** Per agent, the record last written (by reference): what changed since is found without a diff. */
  readonly #sent = new Map<string, AgentRecord>();
  /** Per chunk, the names last written and when (performance.now()). */
  readonly #written = new Map<number, { names: readonly string[]; at: number }>();
  /** Per key, the last reason a chunk was unreadable or unwritable: said once, not every round. */
  readonly #problems = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #watching: AbortController | undefined;
  #urgentUntil = 0;
  /** Per chunk, since when acknowledgements wait in it; how many waited after the last round. */
  readonly #heldSince = new Map<number, number>();
  #held = 0;
  #rollout = false;
  /** What the last round found with nothing left to write (see #due). */
  #quiet = { changes: -1, urgentUntil: 0, until: 0 };
  #askRevision = 0;
  /** Our last write's revision and when it was made; the highest revision the watch delivered. */
  #wrote = { revision: 0, at: 0 };
  #watched = 0;

  constructor(client: EtcdClient, options: FleetShareOptions) {
    this.#client = client;
    this.#options = { flushMs: 500, refreshMs: 30_000, urgentMs: 30_000, retryMs: 1000, ...options };
    this.#keys = fleetKeys(options.prefix);
  }

  start(): void {
    void this.#follow();
    this.#timer = setInterval(() => {
      if (this.#wrote.revision > this.#watched && performance.now() - this.#wrote.at > STALL_MS) {
        // Forgotten, so that the restarted watch is not cut again before its first read: the next write re-arms it.
        this.#wrote = { revision: 0, at: 0 };
        this.#watching?.abort();
      }
      this.#flushing ??= this.flush().finally(() => (this.#flushing = undefined));
    }, this.#options.flushMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    clearInterval(this.#timer);
    await this.#flushing;
  }

  /** The leader doubts `master`: every other controller ends its parked polls too, and re-reports go out at once. */
  ask(cluster: string, master: string): void {
    this.#urgentUntil = performance.now() + this.#options.urgentMs;
    const value = JSON.stringify({ by: this.#options.name, cluster, master, at: new Date().toISOString() });
    this.#client.txn([], [op.put(this.#keys.ask, value)]).catch((error: unknown) => {
      this.#say('warn', `could not ask the other controllers' agents about ${master} (${cluster}): ${describeCause(error)}`);
    });
  }

  /** Writes the chunks whose local agents changed: news at once, mere freshness when due. */
  async flush(): Promise<void> {
    const chunks = this.#due(performance.now());
    if (chunks.size === 0) return;
    const contents = new Map<number, AgentRecord[]>([...chunks].map((c) => [c, []]));
    for (const record of this.#options.registry.records()) {
      if (record.via === undefined) contents.get(chunkOf(record.name))?.push(record);
    }
    const puts: (Put & { chunk: number; records: AgentRecord[] })[] = [];
    for (const [chunk, records] of contents) {
      const key = this.#keys.chunk(this.#options.name, chunk);
      const value = records.length === 0 ? '' : encodeChunk(records);
      if (Buffer.byteLength(value) > MAX_CHUNK_BYTES) {
        // Marked as written all the same: tried again at the next news, not re-encoded every round.
        this.#problem(key, `${key} is not written: its ${count(records.length)} agents make ${count(value.length)} bytes, more than etcd takes; the other controllers do not see them`);
        this.#mark(chunk, records);
        continue;
      }
      puts.push({ key, value, chunk, records });
    }
    for (const batch of batches(puts)) {
      // An emptied chunk (its agents all moved to other controllers) is deleted, not kept as an empty list.
      const ops = batch.map(({ key, value }) => (value === '' ? op.delete(key) : op.put(key, value)));
      let revision: number;
      try {
        ({ revision } = await this.#client.txn([], ops));
      } catch (error) {
        this.#problem(this.#keys.agents, `writing its agents to etcd failed: ${describeCause(error)}`);
        return;
      }
      this.#problems.delete(this.#keys.agents);
      this.#wrote = { revision, at: performance.now() };
      for (const put of batch as typeof puts) this.#mark(put.chunk, put.records);
    }
  }

  /**
   * The chunks to write now. During a rollout (ROLLOUT_ACKS more acknowledgements than the round
   * before) a chunk whose news is only versions applied waits for the burst to end, at most
   * ACK_HOLD_MS: one write of each chunk after it, not one every flush while its agents acknowledge.
   */
  #due(nowMs: number): Set<number> {
    const due = new Set<number>();
    const changes = this.#options.registry.changes;
    const quiet = this.#quiet;
    if (quiet.changes === changes && quiet.urgentUntil === this.#urgentUntil && nowMs < quiet.until) return due;
    const urgent = nowMs < this.#urgentUntil;
    const acks = new Map<number, number>();
    let until = Infinity;
    for (const record of this.#options.registry.records()) {
      const sent = this.#sent.get(record.name);
      // Taken over from another controller: it leaves our chunk (the newest record lives elsewhere).
      const change = record.via === undefined ? changeOf(sent, record) : sent && 'news';
      if (!change) continue;
      const chunk = chunkOf(record.name);
      if (record.via === undefined && onlyApplied(sent, record) && !(urgent && probedAgain(sent, record))) {
        acks.set(chunk, (acks.get(chunk) ?? 0) + 1);
        continue;
      }
      const refreshAt = (this.#written.get(chunk)?.at ?? -Infinity) + this.#options.refreshMs;
      if (change === 'news' || urgent || nowMs >= refreshAt) due.add(chunk);
      else until = Math.min(until, refreshAt);
    }
    let acked = 0;
    for (const n of acks.values()) acked += n;
    // Begun by a burst, a rollout lasts while acknowledgements keep coming: its stragglers must not
    // have every chunk written a second time, a few hundred ms after the burst's.
    const arrived = acked - this.#held;
    this.#rollout = arrived >= ROLLOUT_ACKS || (this.#rollout && arrived > 0);
    const rollout = this.#rollout;
    this.#held = 0;
    for (const [chunk, n] of acks) {
      const since = this.#heldSince.get(chunk) ?? nowMs;
      if (due.has(chunk) || !rollout || nowMs - since >= ACK_HOLD_MS) {
        due.add(chunk);
      } else {
        this.#heldSince.set(chunk, since);
        this.#held += n;
      }
    }
    for (const chunk of due) this.#heldSince.delete(chunk);
    // Nothing to look at again before the registry changes, an ask, or a chunk's refresh is due.
    this.#quiet = { changes, urgentUntil: this.#urgentUntil, until: this.#held > 0 || due.size > 0 ? nowMs : until };
    return due;
  }

  /** A record received after the one held for `name` (absorb keeps the newest). */
  readonly #newer = (name: string, receivedMs: number): boolean =>
    (this.#options.registry.get(name)?.received_at.getTime() ?? -Infinity) < receivedMs;

  #mark(chunk: number, records: readonly AgentRecord[]): void {
    for (const name of this.#written.get(chunk)?.names ?? []) this.#sent.delete(name);
    for (const record of records) this.#sent.set(record.name, record);
    this.#written.set(chunk, { names: records.map((r) => r.name), at: performance.now() });
  }

  /** Reads every key under `fleet/`, then watches from there; again after any failure. */
  async #follow(): Promise<void> {
    let first = true;
    let lastError = '';
    while (!this.#stop.signal.aborted) {
      this.#watching = new AbortController();
      const signal = AbortSignal.any([this.#stop.signal, this.#watching.signal]);
      try {
        const { revision, kvs } = await this.#client.range(this.#keys.root, { prefix: true });
        const taken = kvs.reduce((sum, kv) => sum + this.#apply(kv, first), 0);
        if (first) this.#say('info', `shares its agents through etcd (${this.#keys.root}): ${count(taken)} agent record(s) read`);
        first = false;
        this.#watched = Math.max(this.#watched, revision);
        await this.#client.watch(this.#keys.root, revision + 1, (events) => {
          for (const { type, kv } of events) {
            this.#watched = Math.max(this.#watched, kv.modRevision);
            if (type === 'PUT') this.#apply(kv, false);
          }
        }, signal);
      } catch (error) {
        const why = describeCause(error);
        if (!signal.aborted && why !== lastError) this.#say('warn', `following the other controllers' agents in etcd failed: ${why}`);
        lastError = signal.aborted ? lastError : why;
      }
      if (!this.#stop.signal.aborted) await new Promise((r) => setTimeout(r, this.#options.retryMs));
    }
  }

  /**
   * One key read or watched; returns how many records it gave. Our own chunks are read only at
   * start (what this controller heard before a restart); after that they are our own writes.
   */
  #apply(kv: KeyValue, initial: boolean): number {
    if (kv.key === this.#keys.ask) {
      this.#asked(kv, initial);
      return 0;
    }
    const at = chunkOfKey(this.#keys.agents, kv.key);
    if (!at || (at.controller === this.#options.name && !initial)) return 0;
    const decoded = decodeChunk(kv.value, at.controller, this.#newer);
    if ('problem' in decoded) {
      this.#problem(kv.key, `${kv.key} cannot be read (${decoded.problem}); its agents are left out`);
      return 0;
    }
    this.#problems.delete(kv.key);
    return this.#options.registry.absorb(decoded.records);
  }

  /** Once per new value of the ask key; the one standing when this controller started is past. */
  #asked(kv: KeyValue, initial: boolean): void {
    if (kv.modRevision <= this.#askRevision) return;
    const stale = initial && this.#askRevision === 0;
    this.#askRevision = kv.modRevision;
    const ask = askOf(kv.value);
    if (stale || !ask || ask.by === this.#options.name) return;
    this.#urgentUntil = performance.now() + this.#options.urgentMs;
    const asked = this.#options.askForReports();
    this.#say('info', `${ask.by} asked every agent whether it reaches ${ask.master} (${ask.cluster}): ${count(asked)} parked poll(s) here answered`);
  }

  #problem(key: string, message: string): void {
    if (this.#problems.get(key) === message) return;
    this.#problems.set(key, message);
    this.#say('warn', message);
  }

  #say(level: LogLine['level'], message: string): void {
    this.#options.log({ level, message: `controller ${this.#options.name}: ${message}` });
  }
}

/** A report with new probes since the one written: the leader waits on these after its ask. */
function probedAgain(sent: AgentRecord | undefined, record: AgentRecord): boolean {
  return sent?.masters_received_at.getTime() !== record.masters_received_at.getTime();
}
