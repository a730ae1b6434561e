// The controller state as etcd holds it: the append-only lists (history, failover records, each
// cluster's switchover records) one key per entry, the rest in one `state` key. Rewritten whole
// on every change, the lists would make each write up to megabytes: past etcd's request limit
// (1.5 MiB by default), and a copy per revision in etcd's database until compaction. Split, a
// write carries the small `state` document and the entries appended since the last one.
import type { ControllerState } from './schema.js';

/** Per list, the absolute indices [first, next) of the entries the state holds. */
export type LogLayout = Readonly<Record<string, { readonly first: number; readonly next: number }>>;

/** A list as written: its layout and each entry's JSON text, in order. */
export interface StoredList {
  readonly first: number;
  readonly next: number;
  readonly texts: readonly string[];
}

export interface ListPlan extends StoredList {
  /** Entries to write: absolute index and JSON text. */
  readonly puts: readonly (readonly [number, string])[];
  /** Indices [from, to) to delete: entries dropped from the front (or all, when the list was rewritten). */
  readonly drop: readonly [number, number] | undefined;
}

const SWITCHOVERS = 'switchovers/';

/** The state with its lists emptied, and the lists by name ("history", "failovers", "switchovers/<cluster>"). */
export function splitState(state: ControllerState): {
  core: ControllerState;
  lists: Record<string, readonly unknown[]>;
} {
  const lists: Record<string, readonly unknown[]> = { history: state.history, failovers: state.failovers };
  const failover: ControllerState['failover'] = {};
  for (const [cluster, f] of Object.entries(state.failover)) {
    lists[`${SWITCHOVERS}${cluster}`] = f.switchovers;
    failover[cluster] = { ...f, switchovers: [] };
  }
  return { core: { ...state, history: [], failovers: [], failover }, lists };
}

/** The inverse of splitState, on parsed JSON (validated by the caller). */
export function joinState(core: Record<string, unknown>, lists: Readonly<Record<string, unknown[]>>): unknown {
  const failover: Record<string, unknown> = {};
  const clusters = (core.failover ?? {}) as Record<string, Record<string, unknown>>;
  for (const [cluster, f] of Object.entries(clusters)) {
    failover[cluster] = { ...f, switchovers: lists[`${SWITCHOVERS}${cluster}`] ?? [] };
  }
  return { ...core, history: lists.history ?? [], failovers: lists.failovers ?? [], failover };
}

/**
 * How to store `texts` where `stored` was: the longest tail of the stored entries that the new
 * list starts with is kept (entries dropped from the front are deleted, new ones appended after
 * `next`); a list changed otherwise is rewritten after `next`, and the old entries deleted.
 */
export function planList(stored: StoredList | undefined, texts: readonly string[]): ListPlan {
  const { first = 0, next = 0, texts: old = [] } = stored ?? {};
  let kept = 0;
  for (let start = 0; start < old.length; start++) {
    const tail = old.length - start;
    if (tail <= texts.length && old[start] === texts[0] && old.slice(start).every((t, i) => t === texts[i])) {
      kept = tail;
      break;
    }
  }
  const newFirst = next - kept;
  const puts = texts.slice(kept).map((text, i) => [next + i, text] as const);
  return {
    first: newFirst,
    next: next + puts.length,
    texts: [...texts],
    puts,
    drop: newFirst > first ? [first, newFirst] : undefined,
  };
}

/** The key of a list's entry: fixed width, so that keys sort like indices. */
export function entryKey(prefix: string, list: string, index: number): string {
  return `${prefix}log/${list}/${String(index).padStart(12, '0')}`;
}
