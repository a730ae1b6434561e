import { formatPath, issueLines } from '@pullover/protocol';
import { describeCause, EtcdError, NotLeader, StateError } from '../errors.js';
import { compare, type KeyValue, op, type Operation } from '../ha/codec.js';
import type { EtcdClient } from '../ha/etcd-client.js';
import type { Leadership } from '../ha/leadership.js';
import { encodeWrite, envelopeOf, putAhead, type Write } from './etcd-envelope.js';
import { entryKey, joinState, type StoredList } from './etcd-logs.js';
import { ControllerState, migrateState, STATE_FORMAT } from './schema.js';
import type { CommittedState, Store } from './store.js';

/** What etcd held when create() found a state there. */
export interface FoundState {
  readonly version: number;
  readonly term: number;
  readonly writer: string;
}

/** What this store last read or wrote: the base every guarded write is checked against. */
interface Seen {
  readonly term: number;
  readonly modRevision: number;
  readonly lists: Readonly<Record<string, StoredList>>;
}

interface Snapshot {
  readonly committed: CommittedState | null;
  /** The revision the snapshot was read at. */
  readonly revision: number;
  /** Its lists as read: a follower's next read fetches only the entries appended since. */
  readonly lists: Readonly<Record<string, StoredList>>;
}

export interface EtcdStoreOptions {
  readonly prefix: string;
  /** This controller's name, recorded with each state it writes. */
  readonly name: string;
  /** How often a follower checks the state's revision besides its watch (a silent member stalls a watch). */
  readonly pollMs?: number;
}

/**
 * The controller state in etcd, under `prefix`: `state` (the document, the term that wrote it, the
 * layout of the lists) and `log/<list>/<index>` (see etcd-logs.ts). Only the leader writes: every
 * write is one transaction guarded by the leader key (term and lease) and the state's mod revision
 * as last read or written; a refused or unknown write ends the leadership and throws NotLeader.
 */
export class EtcdStore implements Store {
  readonly location: string;
  readonly stateKey: string;
  readonly #client: EtcdClient;
  readonly #options: EtcdStoreOptions;
  #leadership: Leadership | undefined;
  #seen: Seen | undefined;
  /** The state's mod revision at the last read of the latest state. */
  #lastRead = 0;

  constructor(client: EtcdClient, options: EtcdStoreOptions) {
    this.#client = client;
    this.#options = options;
    this.stateKey = `${options.prefix}state`;
    this.location = `etcd ${this.stateKey} (${client.endpoints.join(', ')})`;
  }

  /** The leadership writes are made under; load() must follow before the first save of each term. */
  lead(leadership: Leadership | undefined): void {
    this.#leadership = leadership;
  }

  async load(): Promise<ControllerState | null> {
    return (await this.#read()).committed?.state ?? null;
  }

  async save(state: ControllerState): Promise<void> {
    const leadership = this.#leadership;
    if (!leadership || leadership.lost !== undefined) {
      throw new NotLeader(leadership?.lost ?? 'this controller does not lead');
    }
    const seen = this.#seen;
    if (seen?.term !== leadership.term) throw new NotLeader(`the state was not re-read since term ${leadership.term} began`);
    const write = encodeWrite(this.#options.prefix, seen.lists, state, leadership.term, this.#options.name);
    const modRevision = await this.#commit(leadership, seen, write);
    this.#seen = { term: leadership.term, modRevision, lists: write.lists };
  }

  /**
   * Calls `listener` with each state committed after the last one read, in order, until the
   * returned function is called: a watch, and a poll every `pollMs` in case the watch went silent
   * (a paused member keeps its streams open). Each (re)start of the watch reads the latest state first.
   */
  follow(listener: (committed: CommittedState) => void, onError: (error: unknown) => void = () => {}): () => void {
    const stop = new AbortController();
    const pollMs = this.#options.pollMs ?? 1000;
    let delivered = this.#lastRead;
    let known: Snapshot['lists'] = {};
    let tail = Promise.resolve();
    let watching: AbortController | undefined;
    const deliver = (read: Snapshot) => {
      if (read.committed && read.committed.revision > delivered && !stop.signal.aborted) {
        delivered = read.committed.revision;
        known = read.lists;
        listener(read.committed);
      }
    };
    // The watch event carries the state itself: only the list entries appended since are read.
    const catchUp = (stateKv: KeyValue) => {
      tail = tail.then(async () => {
        if (stateKv.modRevision > delivered && !stop.signal.aborted) deliver(await this.#readNext(stateKv, known));
      }).catch(onError);
    };
    const watch = async () => {
      while (!stop.signal.aborted) {
        watching = new AbortController();
        const signal = AbortSignal.any([stop.signal, watching.signal]);
        try {
          const latest = await this.#read();
          deliver(latest);
          await this.#client.watch(this.stateKey, latest.revision + 1, (events) => {
            const last = events.filter((e) => e.type === 'PUT').at(-1);
            if (last) catchUp(last.kv);
          }, signal);
        } catch (error) {
          if (!signal.aborted) onError(error);
        }
        if (!stop.signal.aborted) await new Promise((r) => setTimeout(r, pollMs));
      }
    };
    const poll = setInterval(() => {
      this.#client.range(this.stateKey, { keysOnly: true }).then(({ kvs }) => {
        // Newer than the watch delivered: its member is silent; restart it on the client's current endpoint.
        if ((kvs[0]?.modRevision ?? 0) > delivered) watching?.abort();
      }, onError);
    }, pollMs);
    void watch();
    return () => {
      stop.abort();
      clearInterval(poll);
    };
  }

  async #commit(leadership: Leadership, seen: Seen, { envelope, puts, drops }: Write): Promise<number> {
    const guards = leadership.guards();
    const refuse = (why: string): never => {
      leadership.lose(why);
      throw new NotLeader(why);
    };
    try {
      const rest = (await putAhead(this.#client, guards, puts))
        ?? refuse(`the leader key changed while the state was written (term ${leadership.term})`);
      const result = await this.#client.txn(
        [...guards, compare.modified(this.stateKey, seen.modRevision)],
        [op.put(this.stateKey, JSON.stringify(envelope)), ...rest, ...drops],
        [op.get(leadership.leaderKey), op.get(this.stateKey)],
      );
      if (result.succeeded) return result.revision;
      const [leader, state] = [result.ranges[0]?.[0], result.ranges[1]?.[0]];
      // Our own write, committed by an attempt whose answer was lost, then retried by the client.
      if (state && envelopeOf(state).write === envelope.write) return state.modRevision;
      return refuse(refusal(leadership, leader, state));
    } catch (error) {
      if (error instanceof NotLeader || !(error instanceof EtcdError)) throw error;
      // Committed or not, nobody can tell now: step down, the next leader reads what was committed.
      return refuse(`the outcome of a state write is unknown (${describeCause(error)}); stepping down`);
    }
  }

  /** The state, its revision and its writer's term, read in one snapshot (the latest). */
  async #read(): Promise<Snapshot> {
    const snapshot = await this.#client.txn([], [op.get(this.stateKey), op.getPrefix(`${this.#options.prefix}log/`)]);
    const stateKv = snapshot.ranges[0]?.[0];
    this.#lastRead = stateKv?.modRevision ?? 0;
    if (stateKv === undefined) {
      this.#seenBy(0, {});
      return { committed: null, revision: snapshot.revision, lists: {} };
    }
    const read = this.#assemble(stateKv, snapshot.ranges[1] ?? [], {});
    this.#seenBy(stateKv.modRevision, read.lists);
    return { ...read, revision: snapshot.revision };
  }

  /**
   * The state `stateKv` holds (a watch event's), reading only the list entries that `known` lacks:
   * an index is written once, so the entries of a committed layout never change under it.
   */
  async #readNext(stateKv: KeyValue, known: Snapshot['lists']): Promise<Snapshot> {
    const { prefix } = this.#options;
    const reads: Operation[] = [];
    for (const [name, { first, next }] of Object.entries(envelopeOf(stateKv, this.location).logs)) {
      const had = reusable(known[name], first);
      const from = had ? Math.max(first, had.next) : first;
      if (from >= next) continue;
      reads.push(op.getRange(entryKey(prefix, name, from), entryKey(prefix, name, next), stateKv.modRevision));
    }
    const ranges = reads.length === 0 ? [] : (await this.#client.txn([], reads)).ranges;
    return { ...this.#assemble(stateKv, ranges.flat(), known), revision: stateKv.modRevision };
  }

  /** The committed state of `stateKv`, its lists' entries from `entries` or else `known`. */
  #assemble(stateKv: KeyValue, entries: readonly KeyValue[], known: Snapshot['lists']): Omit<Snapshot, 'revision'> {
    const envelope = envelopeOf(stateKv, this.location);
    const texts = new Map(entries.map((kv) => [kv.key, kv.value]));
    const stored: Record<string, StoredList> = {};
    const lists: Record<string, unknown[]> = {};
    for (const [name, { first, next }] of Object.entries(envelope.logs)) {
      const had = reusable(known[name], first);
      const list: string[] = [];
      for (let i = first; i < next; i++) {
        const text = had && had.first <= i && i < had.next
          ? had.texts[i - had.first]
          : texts.get(entryKey(this.#options.prefix, name, i));
        if (text === undefined) throw new StateError(`${this.location}: entry ${i} of ${name} is missing. It was left untouched.`);
        list.push(text);
      }
      stored[name] = { first, next, texts: list };
      lists[name] = list.map((t) => JSON.parse(t) as unknown);
    }
    const state = parseState(joinState(envelope.state, lists), this.location);
    return { committed: { state, term: envelope.term, revision: stateKv.modRevision }, lists: stored };
  }

  /** Under a leadership, what was read is the base of its next write. */
  #seenBy(modRevision: number, lists: Record<string, StoredList>): void {
    const term = this.#leadership?.lost === undefined ? this.#leadership?.term : undefined;
    if (term !== undefined) this.#seen = { term, modRevision, lists };
  }

  /**
   * Writes `state` into an etcd that holds none yet (migrate-state): at `term` 0, by `writer`, as
   * save() writes it and load() reads it. Every transaction requires the state key to be absent, so
   * nothing becomes visible when a state is there: resolves with it then, else with the revision written.
   */
  async create(state: ControllerState, writer: string): Promise<{ revision: number } | { found: FoundState }> {
    const write = encodeWrite(this.#options.prefix, {}, state, 0, writer);
    const absent = [compare.modified(this.stateKey, 0)];
    const rest = await putAhead(this.#client, absent, write.puts);
    const result = rest && await this.#client.txn(
      absent,
      [op.put(this.stateKey, JSON.stringify(write.envelope)), ...rest],
      [op.get(this.stateKey)],
    );
    if (result?.succeeded) return { revision: result.revision };
    const kv = result ? result.ranges[0]?.[0] : (await this.#client.range(this.stateKey)).kvs[0];
    if (kv === undefined) throw new StateError(`${this.location} was deleted while it was written; nothing written, try again`);
    const found = envelopeOf(kv, this.location);
    // Our own write, committed by an attempt whose answer was lost, then retried by the client.
    if (found.write === write.envelope.write) return { revision: kv.modRevision };
    return { found: { version: Number(found.state.version), term: found.term, writer: found.writer } };
  }
}

/** What was read of a list whose entries start at `first` now: none of it if it started later (a list made anew). */
function reusable(had: StoredList | undefined, first: number): StoredList | undefined {
  return had && had.first <= first ? had : undefined;
}

function refusal(leadership: Leadership, leader: KeyValue | undefined, state: KeyValue | undefined): string {
  if (leader === undefined) return `the leader key is gone (term ${leadership.term} is over)`;
  if (leader.createRevision !== leadership.term) return `another controller leads (term ${leader.createRevision})`;
  if (leader.lease !== leadership.lease.id) return `the leader key is bound to another lease (${leader.lease})`;
  const writer = state ? envelopeOf(state) : undefined;
  return `the state was written by someone else (${writer ? `${writer.writer}, term ${writer.term}` : 'deleted'})`;
}

function parseState(json: unknown, location: string): ControllerState {
  const format = (json as { format?: unknown }).format;
  if (typeof format === 'number' && format > STATE_FORMAT) {
    throw new StateError(`${location} was written by a newer pullover-controller (state format ${format}); run the newer version.`);
  }
  const result = ControllerState.safeParse(migrateState(json));
  if (!result.success) {
    const issues = issueLines(result.error.issues, formatPath).join('; ');
    throw new StateError(`${location} is not a valid pullover state (${issues}). It was left untouched.`);
  }
  return result.data;
}
