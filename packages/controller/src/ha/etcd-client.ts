import { Agent, request } from 'undici';
import { describeCause, EtcdError } from '../errors.js';
import {
  type Compare,
  encode,
  type KeyValue,
  keyValueOf,
  type Operation,
  prefixEnd,
  type RawKeyValue,
  type RawRangeResponse,
  type RawTxnResponse,
  revisionOf,
} from './codec.js';

export interface EtcdClientOptions {
  /** Client URLs of the members, e.g. http://10.0.0.1:2379. */
  readonly endpoints: readonly string[];
  /** The longest one call may take, every endpoint and retry included: the "retry budget". */
  readonly retryTimeoutMs: number;
  /** PEM texts, for https endpoints. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

export interface TxnResult {
  readonly succeeded: boolean;
  /** The store's revision after the transaction: the mod revision of every key it wrote. */
  readonly revision: number;
  /** The keys each range operation of the branch that ran found, in order. */
  readonly ranges: readonly (readonly KeyValue[])[];
}

export interface WatchEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly kv: KeyValue;
}

// gRPC codes worth another endpoint: Unavailable (no leader, request timed out), DeadlineExceeded,
// ResourceExhausted (too many requests). Anything else etcd refuses is refused everywhere.
const RETRYABLE = new Set([4, 8, 14]);
// Between rounds over every endpoint: a quorum being elected answers in about an election timeout.
const ROUND_PAUSE_MS = 100;

interface Refusal {
  readonly message: string;
  readonly code: number | undefined;
}

/**
 * A small client of etcd's v3 JSON gateway. Each call goes to the endpoint that last answered and
 * moves on to the next one on a connection failure, a timeout or an "unavailable" answer, until
 * the retry budget is spent: a member that is paused or cut off costs one attempt, not the call.
 */
export class EtcdClient {
  readonly endpoints: readonly string[];
  readonly retryTimeoutMs: number;
  readonly #dispatcher: Agent;
  #current = 0;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd: no endpoints');
    this.endpoints = options.endpoints.map((e) => e.replace(/\/+$/, ''));
    this.retryTimeoutMs = options.retryTimeoutMs;
    const { ca, cert, key } = options.tls ?? {};
    const connect = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    this.#dispatcher = new Agent({ connect });
  }

  /** The endpoint calls go to first. */
  get endpoint(): string {
    return this.endpoints[this.#current] as string;
  }

  /** POSTs `body` to a gateway path ("/v3/kv/range"); resolves with the answer (a stream's first message). */
  async call<T>(path: string, body: unknown, budgetMs = this.retryTimeoutMs): Promise<T> {
    const deadline = performance.now() + budgetMs;
    // A share of the budget per attempt, so that one silent member leaves time for the others.
    const attemptMs = Math.max(budgetMs / this.endpoints.length, 250);
    const failures: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      const endpoint = this.endpoint;
      try {
        return await this.#post<T>(endpoint, path, body, Math.min(left, attemptMs));
      } catch (error) {
        if (error instanceof EtcdError && !RETRYABLE.has(error.grpcCode ?? 14)) throw error;
        failures.push(`${endpoint}: ${describeCause(error)}`);
        if (this.endpoint === endpoint) this.#current = (this.#current + 1) % this.endpoints.length;
      }
      if (attempt % this.endpoints.length === 0) {
        await new Promise((r) => setTimeout(r, Math.min(ROUND_PAUSE_MS, Math.max(0, deadline - performance.now()))));
      }
    }
    throw new EtcdError(`etcd did not answer ${path} within ${Math.round(budgetMs)} ms (${failures.join('; ')})`);
  }

  async range(
    key: string,
    options: { prefix?: boolean; revision?: number; keysOnly?: boolean; budgetMs?: number } = {},
  ): Promise<{ revision: number; kvs: KeyValue[] }> {
    const body = {
      key: encode(key),
      ...(options.prefix ? { range_end: prefixEnd(key) } : {}),
      ...(options.revision ? { revision: String(options.revision) } : {}),
      ...(options.keysOnly ? { keys_only: true } : {}),
    };
    const response = await this.call<RawRangeResponse>('/v3/kv/range', body, options.budgetMs);
    return { revision: revisionOf(response.header?.revision), kvs: (response.kvs ?? []).map(keyValueOf) };
  }

  async txn(compares: Compare[], success: Operation[], failure: Operation[] = []): Promise<TxnResult> {
    const response = await this.call<RawTxnResponse>('/v3/kv/txn', { compare: compares, success, failure });
    const ranges = (response.responses ?? [])
      .filter((r) => r.response_range !== undefined)
      .map((r) => (r.response_range?.kvs ?? []).map(keyValueOf));
    return { succeeded: response.succeeded === true, revision: revisionOf(response.header?.revision), ranges };
  }

  /** A new lease; resolves with its ID and the TTL etcd granted (it raises TTLs below its minimum). */
  async grant(ttlSeconds: number, budgetMs?: number): Promise<{ id: string; ttlSeconds: number }> {
    const response = await this.call<{ ID?: string; TTL?: string; error?: string }>(
      '/v3/lease/grant',
      { TTL: String(ttlSeconds) },
      budgetMs,
    );
    if (response.ID === undefined) throw new EtcdError(`etcd granted no lease: ${response.error ?? 'no ID'}`);
    return { id: response.ID, ttlSeconds: Number(response.TTL ?? '0') };
  }

  /** Renews the lease; resolves with its TTL in seconds, 0 when etcd no longer has it (expired or revoked). */
  async keepAlive(id: string, budgetMs?: number): Promise<number> {
    const response = await this.call<{ TTL?: string }>('/v3/lease/keepalive', { ID: id }, budgetMs);
    return Number(response.TTL ?? '0');
  }

  /** Ends the lease and deletes every key bound to it; a lease already gone is not an error. */
  async revoke(id: string, budgetMs?: number): Promise<void> {
    try {
      await this.call('/v3/lease/revoke', { ID: id }, budgetMs);
    } catch (error) {
      if (!(error instanceof EtcdError && error.grpcCode === 5)) throw error;
    }
  }

  /**
   * Streams the changes of the keys under `prefix` from `fromRevision` on the current endpoint, until
   * the stream ends (resolves) or fails (rejects; a compacted start revision is gRPC code 11).
   */
  async watch(
    prefix: string,
    fromRevision: number,
    onEvents: (events: WatchEvent[]) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const create_request = { key: encode(prefix), range_end: prefixEnd(prefix), start_revision: String(fromRevision) };
    const endpoint = this.endpoint;
    const response = await request(`${endpoint}/v3/watch`, {
      method: 'POST',
      body: JSON.stringify({ create_request }),
      headers: { 'content-type': 'application/json' },
      dispatcher: this.#dispatcher,
      signal,
      headersTimeout: Math.ceil(this.retryTimeoutMs),
      bodyTimeout: 0,
    });
    // A message of a large transaction spans dozens of chunks: only each new chunk is searched for
    // the end of the line, and the pieces joined once (re-scanning the whole buffer was quadratic).
    let pieces: Buffer[] = [];
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      let start = 0;
      let newline: number;
      while ((newline = chunk.indexOf(10, start)) >= 0) {
        pieces.push(chunk.subarray(start, newline));
        start = newline + 1;
        const line = Buffer.concat(pieces).toString().trim();
        pieces = [];
        if (line === '') continue;
        const message = unwrap<{
          events?: { type?: string; kv?: RawKeyValue }[];
          compact_revision?: string;
          canceled?: boolean;
          cancel_reason?: string;
        }>(JSON.parse(line), response.statusCode);
        if (message.compact_revision !== undefined) {
          throw new EtcdError(`etcd compacted revision ${fromRevision} away (now ${message.compact_revision})`, 11);
        }
        if (message.canceled) throw new EtcdError(`etcd cancelled the watch: ${message.cancel_reason ?? 'no reason'}`, 1);
        const events = (message.events ?? []).map((e) => ({
          type: e.type === 'DELETE' ? ('DELETE' as const) : ('PUT' as const),
          kv: keyValueOf(e.kv ?? {}),
        }));
        if (events.length > 0) onEvents(events);
      }
      if (start < chunk.length) pieces.push(chunk.subarray(start));
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  async #post<T>(endpoint: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    const response = await request(`${endpoint}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      dispatcher: this.#dispatcher,
      signal: AbortSignal.timeout(Math.ceil(timeoutMs)),
      headersTimeout: Math.ceil(timeoutMs),
      bodyTimeout: Math.ceil(timeoutMs),
    });
    const text = await response.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text.split('\n', 1)[0] as string);
    } catch {
      throw new EtcdError(`${endpoint}${path} answered ${response.statusCode} with no JSON: ${text.slice(0, 200)}`, 14);
    }
    return unwrap<T>(json, response.statusCode);
  }
}

/** A unary answer as is; a stream's `{result}` unwrapped; `{error}` and non-2xx answers thrown as EtcdError. */
function unwrap<T>(json: unknown, status: number): T {
  const value = (json ?? {}) as { result?: unknown; error?: unknown; message?: string; code?: number };
  const refusal = refusalOf(value, status);
  if (refusal) throw new EtcdError(`etcd refused: ${refusal.message}`, refusal.code);
  return (value.result ?? value) as T;
}

function refusalOf(value: { error?: unknown; message?: string; code?: number }, status: number): Refusal | undefined {
  // Unary errors: {error, message, code}; stream errors: {error: {grpc_code, message}}.
  if (typeof value.error === 'object' && value.error !== null) {
    const error = value.error as { grpc_code?: number; message?: string };
    return { message: error.message ?? 'unknown error', code: error.grpc_code };
  }
  if (value.error !== undefined || status >= 300) {
    return { message: value.message ?? String(value.error ?? `HTTP ${status}`), code: value.code ?? (status >= 500 ? 14 : 2) };
  }
  return undefined;
}
