// The JSON shapes of etcd's v3 gateway (grpc-gateway over etcdserverpb): keys and values are
// base64, int64 fields are decimal strings, and fields at their zero value are left out.

/** A key as etcd returns it, decoded. Lease IDs stay strings: they exceed 2^53 and would be rounded as numbers. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  /** '0' when the key is bound to no lease. */
  readonly lease: string;
}

export interface RawKeyValue {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}

export interface RawHeader {
  revision?: string;
}

export interface RawRangeResponse {
  header?: RawHeader;
  kvs?: RawKeyValue[];
}

export interface RawTxnResponse {
  header?: RawHeader;
  succeeded?: boolean;
  responses?: { response_range?: RawRangeResponse }[];
}

export function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function decode(base64: string | undefined): string {
  return base64 === undefined ? '' : Buffer.from(base64, 'base64').toString('utf8');
}

/**
 * A revision as a number. Revisions count writes, so they stay far below 2^53 (a million writes a
 * second for 285 years); one above it is a corrupt answer, not a value to round.
 */
export function revisionOf(raw: string | undefined): number {
  const value = Number(raw ?? '0');
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`etcd answered an invalid revision ${raw}`);
  return value;
}

export function keyValueOf(raw: RawKeyValue): KeyValue {
  return new LazyKeyValue(raw);
}

/**
 * The value is decoded when first read: a watch of `fleet/` brings back this controller's own
 * chunk writes too (hundreds of kilobytes in a rollout), which it recognises by their key alone.
 */
class LazyKeyValue implements KeyValue {
  readonly key: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease: string;
  #raw: string | undefined;
  #value: string | undefined;

  constructor(raw: RawKeyValue) {
    this.key = decode(raw.key);
    this.createRevision = revisionOf(raw.create_revision);
    this.modRevision = revisionOf(raw.mod_revision);
    this.lease = raw.lease ?? '0';
    this.#raw = raw.value;
  }

  get value(): string {
    if (this.#value === undefined) {
      this.#value = decode(this.#raw);
      this.#raw = undefined;
    }
    return this.#value;
  }
}

/** The end of the range holding every key that starts with `prefix` (etcd's "prefix + 1"), base64. */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if ((bytes[i] as number) < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i] = (bytes[i] as number) + 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

/** A condition of a transaction (etcdserverpb.Compare). */
export type Compare = Record<string, string>;
/** An operation of a transaction (etcdserverpb.RequestOp). */
export type Operation = Record<string, Record<string, string | boolean>>;

export const compare = {
  /** `create_revision` 0 means "the key does not exist". */
  created: (key: string, revision: number): Compare => ({
    key: encode(key),
    target: 'CREATE',
    result: 'EQUAL',
    create_revision: String(revision),
  }),
  /** `mod_revision` 0 means "the key does not exist". */
  modified: (key: string, revision: number): Compare => ({
    key: encode(key),
    target: 'MOD',
    result: 'EQUAL',
    mod_revision: String(revision),
  }),
  lease: (key: string, lease: string): Compare => ({ key: encode(key), target: 'LEASE', result: 'EQUAL', lease }),
};

function at(revision: number): { revision?: string } {
  return revision ? { revision: String(revision) } : {};
}

export const op = {
  put: (key: string, value: string, lease?: string): Operation => ({
    request_put: { key: encode(key), value: encode(value), ...(lease ? { lease } : {}) },
  }),
  /** `revision`: as of that revision (0: the latest). */
  get: (key: string, revision = 0): Operation => ({ request_range: { key: encode(key), ...at(revision) } }),
  getPrefix: (prefix: string, revision = 0): Operation => ({
    request_range: { key: encode(prefix), range_end: prefixEnd(prefix), ...at(revision) },
  }),
  /** The keys in [from, to), as of `revision` (0: the latest). */
  getRange: (from: string, to: string, revision = 0): Operation => ({
    request_range: { key: encode(from), range_end: encode(to), ...at(revision) },
  }),
  delete: (key: string): Operation => ({ request_delete_range: { key: encode(key) } }),
  /** Deletes the keys in [from, to). */
  deleteRange: (from: string, to: string): Operation => ({
    request_delete_range: { key: encode(from), range_end: encode(to) },
  }),
};
