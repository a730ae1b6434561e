// The `state` key's document (the envelope) and the write of a state into etcd, as EtcdStore
// encodes them: one encoding for every writer (the leader's save, migrate-state's create).
import { randomUUID } from 'node:crypto';
import { describeCause, StateError } from '../errors.js';
import { type Compare, type KeyValue, op, type Operation } from '../ha/codec.js';
import type { EtcdClient } from '../ha/etcd-client.js';
import { entryKey, type LogLayout, planList, splitState, type StoredList } from './etcd-logs.js';
import { ControllerState } from './schema.js';

/** The layout of the `state` key's document; bumped when it changes incompatibly. */
const ENVELOPE_FORMAT = 1;
// One request stays well under etcd's 1.5 MiB and 128 operations; larger appends go ahead in chunks.
const CHUNK_BYTES = 1024 * 1024;
const CHUNK_OPS = 100;

export interface Envelope {
  format: number;
  /** The term of the leader that wrote it (0: migrate-state). */
  term: number;
  writer: string;
  /** Unique per write: recognizes our own write whose answer was lost (committed, then retried). */
  write: string;
  logs: LogLayout;
  state: Record<string, unknown>;
}

/** One state write: the `state` key's document, the entries to put, the ranges to delete, the lists as then stored. */
export interface Write {
  readonly envelope: Envelope;
  readonly puts: Operation[];
  readonly drops: Operation[];
  readonly lists: Record<string, StoredList>;
}

/** The write of `state` over the lists as `stored`: entries appended after `next`, dropped ones deleted. */
export function encodeWrite(
  prefix: string,
  stored: Readonly<Record<string, StoredList>>,
  state: ControllerState,
  term: number,
  writer: string,
): Write {
  const { core, lists } = splitState(ControllerState.parse(state));
  const plans = Object.fromEntries(
    [...new Set([...Object.keys(stored), ...Object.keys(lists)])].map((name) => [
      name,
      planList(stored[name], (lists[name] ?? []).map((e) => JSON.stringify(e))),
    ]),
  );
  const key = (name: string, index: number) => entryKey(prefix, name, index);
  const puts = Object.entries(plans).flatMap(([name, p]) =>
    p.puts.map(([index, text]) => op.put(key(name, index), text)),
  );
  const drops = Object.entries(plans).flatMap(([name, p]) =>
    p.drop ? [op.deleteRange(key(name, p.drop[0]), key(name, p.drop[1]))] : [],
  );
  const logs = Object.fromEntries(Object.entries(plans).map(([name, p]) => [name, { first: p.first, next: p.next }]));
  const envelope = { format: ENVELOPE_FORMAT, term, writer, write: randomUUID(), logs, state: core };
  return { envelope, puts, drops, lists: plans };
}

/**
 * Puts the entries of a write ahead of its state key, in chunks under `guards`, while they are too
 * many for one request: entries past `next` are read by nobody until the state names them. Resolves
 * with the rest, for the state's own transaction, or with undefined when a guard failed.
 */
export async function putAhead(
  client: EtcdClient,
  guards: Compare[],
  puts: Operation[],
): Promise<Operation[] | undefined> {
  let rest = puts;
  while (rest.length > CHUNK_OPS || JSON.stringify(rest).length > CHUNK_BYTES) {
    if (!(await client.txn(guards, rest.slice(0, CHUNK_OPS))).succeeded) return undefined;
    rest = rest.slice(CHUNK_OPS);
  }
  return rest;
}

export function envelopeOf(kv: KeyValue, location = kv.key): Envelope {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(kv.value) as Envelope;
  } catch (error) {
    throw new StateError(`${location} is not valid JSON (${describeCause(error)}). It was left untouched.`);
  }
  if (envelope.format !== ENVELOPE_FORMAT || typeof envelope.state !== 'object' || typeof envelope.logs !== 'object') {
    throw new StateError(
      `${location} was written in an unknown layout (format ${String(envelope.format)}); run the pullover-controller that wrote it. It was left untouched.`,
    );
  }
  return envelope;
}
