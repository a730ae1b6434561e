import { NotLeader } from '../errors.js';

/**
 * Whether this controller may change MySQL and the state now, and for how long. Alone with its
 * state dir it always may; on etcd only the leader may, while its lease is surely alive. Every
 * statement that changes a server and every state write asks first, and a statement's timeout is
 * cut to the time left: a deposed leader's last statement cannot land after the next leader began.
 */
export interface Authority {
  readonly mode: 'single' | 'etcd';
  /** Milliseconds left to act: Infinity alone, the lease's time left while leading, 0 otherwise. */
  timeLeftMs(): number;
  /** The term under which it acts (etcd), stamped on each version it commits; undefined alone. */
  readonly term: number | undefined;
  /** Throws NotLeader (naming the leader, when known) unless it may act. */
  assertActing(): void;
}

/** One controller and its state dir: the only actor there is. */
export const SOLE_AUTHORITY: Authority = Object.freeze({
  mode: 'single',
  term: undefined,
  timeLeftMs: () => Number.POSITIVE_INFINITY,
  assertActing: () => {},
});

/**
 * The bound of a statement whose own is `timeoutMs` (0: none, e.g. a fence queued on a hung
 * server's socket), cut to the time left to act; throws when none is left.
 */
export function actingTimeout(authority: Authority, timeoutMs: number): number {
  const left = authority.timeLeftMs();
  if (left <= 0) {
    authority.assertActing();
    throw new NotLeader('no lease time left');
  }
  if (!Number.isFinite(left)) return timeoutMs;
  return Math.max(1, timeoutMs === 0 ? Math.floor(left) : Math.min(timeoutMs, Math.floor(left)));
}
