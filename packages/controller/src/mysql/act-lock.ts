import { createHash } from 'node:crypto';
import { ServerClaimed, type ServerClaimHolder } from '../errors.js';
import type { Authority } from '../ha/authority.js';
import type { LogLine } from '../log-line.js';
import type { Statement } from './dialect.js';
import { MysqlFailure, type MysqlSession } from './session.js';

// Two controllers acting on one server would undo each other's steps. Before changing a server the
// acting controller holds a user-level lock on it (GET_LOCK), which lives as long as its session: a
// second controller finds it taken. An etcd leader takes it over by killing the holder's whole
// connection, because a frozen or partitioned ex-leader keeps its sessions (and its lock) until
// wait_timeout, and whatever it still sends after a thaw must find its connection gone.

/** MySQL 8 refuses longer lock names (ER_USER_LOCK_WRONG_NAME); MariaDB takes them, but one name fits both. */
export const LOCK_NAME_MAX = 64;
const PREFIX = 'pullover:';
const HASH_CHARS = 16;

/**
 * `pullover:<cluster>`; a cluster name too long for that (names go up to 128 chars) keeps its head
 * and ends in a hash of the whole name, so two long names that share a head still lock apart.
 * Lock names compare case-insensitively on the server: clusters differing only by case share one.
 */
export function lockName(cluster: string): string {
  const plain = `${PREFIX}${cluster}`;
  if (plain.length <= LOCK_NAME_MAX) return plain;
  const hash = createHash('sha256').update(cluster).digest('hex').slice(0, HASH_CHARS);
  return `${PREFIX}${cluster.slice(0, LOCK_NAME_MAX - PREFIX.length - HASH_CHARS - 1)}~${hash}`;
}

/** Every statement claimServer sends, in the order it may send them: the same SQL on MariaDB and MySQL 8. */
export function claimStatements(cluster: string) {
  const name = lockName(cluster);
  return {
    holder: { sql: 'SELECT IS_USED_LOCK(?) AS holder', values: [name] },
    /** No wait: a lock someone holds is either taken over (after a KILL) or refused. */
    take: { sql: 'SELECT GET_LOCK(?, 0) AS got', values: [name] },
    describe: (id: number): Statement => ({
      sql: 'SELECT user, host, command, time FROM information_schema.processlist WHERE id = ?',
      values: [id],
    }),
    // CONNECTION, not QUERY: the lock lives as long as the connection, and nothing a thawed
    // ex-leader still has queued on it may land.
    kill: (id: number): string => `KILL CONNECTION ${connectionIdOf(id)}`,
  } as const;
}

export type ClaimMode =
  /** An etcd leader: its term proves it is the rightful actor; the holder is a deposed leader or a stray. */
  | 'take-over'
  /** A single controller on the file store: a holder is another controller started by mistake. */
  | 'refuse-if-held';

export type ClaimOutcome =
  /** This session held it already: one query. */
  | { readonly kind: 'held' }
  /** Nobody held it. */
  | { readonly kind: 'free' }
  /** Connection `from` held it and was killed; the lock came free `releasedAfterMs` after the KILL. */
  | { readonly kind: 'taken-over'; readonly from: ServerClaimHolder; readonly releasedAfterMs: number };

/**
 * The KILL returns before the killed thread has ended and let go of its locks. An idle or frozen
 * client's thread ends at once; one inside a statement ends when the statement notices the kill.
 */
const RELEASE_WAIT_MS = 1000;
const RELEASE_POLL_MS = 10;

/**
 * Holds the cluster's lock on the session's server before the caller changes it. The lock stays
 * with the session: the caller keeps it open, and calls this again before each change (one query
 * while it still holds it). Every statement is bounded by `timeoutMs`.
 */
export async function claimServer(
  session: MysqlSession,
  opts: {
    readonly cluster: string;
    readonly mode: ClaimMode;
    readonly timeoutMs: number;
    /** A connection of this controller's own that held it (a session given up on a timeout): taken over in either mode. */
    readonly ours?: (connectionId: number) => boolean;
  },
): Promise<ClaimOutcome> {
  const { cluster, mode, timeoutMs } = opts;
  const sql = claimStatements(cluster);
  const server = session.endpoint.name;
  let id = await holderOf(session, sql.holder, timeoutMs);
  if (id === session.connectionId) return { kind: 'held' };
  if (id === null) {
    if (await tryLock(session, sql.take, timeoutMs)) return { kind: 'free' };
    // Someone took it between the two statements: theirs now, as if it had been from the start.
    id = await holderOf(session, sql.holder, timeoutMs);
    if (id === null) throw new ServerClaimed(cluster, server, undefined, 'the lock changed hands twice while pullover took it');
  }
  const holder = await describeHolder(session, sql.describe(id), id, timeoutMs);
  if (mode === 'refuse-if-held' && opts.ours?.(id) !== true) throw new ServerClaimed(cluster, server, holder);
  await killConnection(session, sql.kill(id), timeoutMs);
  const releasedAfterMs = await takeWhenReleased(session, sql.take, timeoutMs);
  if (releasedAfterMs !== undefined) return { kind: 'taken-over', from: holder, releasedAfterMs };
  const now = await holderOf(session, sql.holder, timeoutMs);
  if (now === id) throw new ServerClaimed(cluster, server, holder, 'it still held the lock after pullover killed it');
  const racer = now === null ? undefined : await describeHolder(session, sql.describe(now), now, timeoutMs);
  throw new ServerClaimed(cluster, server, racer, `the lock changed hands after pullover killed connection ${id}`);
}

/**
 * Takes the lock once the killed holder has let go: ms after the KILL, or undefined if it did not
 * within the wait. A poll, not GET_LOCK's own wait: that takes whole seconds on MySQL (val_int), too
 * coarse for a statement timeout cut to the lease time left. Here 1 in 40 take-overs needed a second poll.
 */
async function takeWhenReleased(
  session: MysqlSession,
  take: Statement,
  timeoutMs: number,
): Promise<number | undefined> {
  const killedAt = performance.now();
  const deadline = killedAt + Math.min(RELEASE_WAIT_MS, timeoutMs);
  for (;;) {
    if (await tryLock(session, take, timeoutMs)) return Math.round(performance.now() - killedAt);
    if (performance.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, RELEASE_POLL_MS));
  }
}

async function holderOf(session: MysqlSession, statement: Statement, timeoutMs: number): Promise<number | null> {
  const [row] = await session.query<{ holder: string | number | null }[]>(statement, timeoutMs);
  return row?.holder === null || row?.holder === undefined ? null : Number(row.holder);
}

/** GET_LOCK answers 1 (ours), 0 (held by another) or NULL (an error, e.g. we were killed). */
async function tryLock(session: MysqlSession, statement: Statement, timeoutMs: number): Promise<boolean> {
  const [row] = await session.query<{ got: string | number | null }[]>(statement, timeoutMs);
  return Number(row?.got) === 1;
}

/** The holder's user@host when the processlist shows it (it needs the PROCESS privilege for other users). */
async function describeHolder(
  session: MysqlSession,
  statement: Statement,
  id: number,
  timeoutMs: number,
): Promise<ServerClaimHolder> {
  const [row] = await session
    .query<{ user: string | null; host: string | null; command: string | null; time: string | number | null }[]>(
      statement,
      timeoutMs,
    )
    .catch(() => []);
  if (!row) return { connectionId: id };
  return {
    connectionId: id,
    ...(row.user && row.host ? { account: `${row.user}@${row.host}` } : {}),
    ...(row.command === 'Sleep' && row.time !== null ? { idleS: Number(row.time) } : {}),
  };
}

async function killConnection(session: MysqlSession, statement: string, timeoutMs: number): Promise<void> {
  try {
    await session.query(statement, timeoutMs);
  } catch (error) {
    // It ended by itself meanwhile: its lock is going too.
    if (error instanceof MysqlFailure && (error.cause as { code?: string } | undefined)?.code === 'ER_NO_SUCH_THREAD') return;
    throw error;
  }
}

function connectionIdOf(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`not a connection id: ${id}`);
  return String(id);
}

/**
 * The claim an acting controller makes before its first change on each session: on etcd the leader
 * takes the lock over (its term makes it the rightful actor); alone with a state dir, a held lock
 * means a second controller started by mistake, and nothing is changed — unless the holder is this
 * controller's own: a session given up on, or left by its previous process (killed mid-statement,
 * the server has not noticed yet). Every claiming session also holds `pullover:<cluster>@<instance>`,
 * `instance` naming this controller (host and state dir), which is how its own are told apart.
 */
export function actLock(
  cluster: string,
  authority: Authority,
  instance: string,
  log: (line: LogLine) => void,
): (session: MysqlSession, timeoutMs: number) => Promise<void> {
  const mode: ClaimMode = authority.mode === 'etcd' ? 'take-over' : 'refuse-if-held';
  const own = lockName(`${cluster}@${createHash('sha256').update(instance).digest('hex').slice(0, 12)}`);
  return async (session, timeoutMs) => {
    const [held] = await session.query<{ holder: string | number | null }[]>(
      { sql: 'SELECT IS_USED_LOCK(?) AS holder', values: [own] },
      timeoutMs,
    );
    const ownHolder = held?.holder === null || held?.holder === undefined ? undefined : Number(held.holder);
    const ours = (id: number) => id === ownHolder;
    const outcome = await claimServer(session, { cluster, mode, timeoutMs, ours });
    // A killed holder lets go of its locks within milliseconds: the wait is for that alone.
    await session.query({ sql: 'SELECT GET_LOCK(?, 1) AS got', values: [own] }, timeoutMs);
    if (outcome.kind !== 'taken-over' || ours(outcome.from.connectionId)) return;
    const { connectionId, account } = outcome.from;
    log({
      level: 'warn',
      message: `${cluster}: ${session.endpoint.name}: took the cluster's lock over from connection ${connectionId}${account ? ` (${account})` : ''}, killed: a deposed leader or a stray controller held it`,
    });
  };
}
