import { QUICK_FENCE_S } from '../mysql/fence-block.js';
import { semisyncAsMaster } from '../mysql/semisync.js';
import type { MysqlSession } from '../mysql/session.js';

export interface FenceOutcome {
  readonly wasWritable: boolean;
  readonly killed: number;
}

/**
 * read_only, and every client connection killed: a pooled connection opened before the failover
 * would otherwise keep writing to the old master while new ones write to the new one.
 *
 * A master being replaced loses its clients first: after a freeze or a partition their commits
 * wait for a semi-sync acknowledgement that will never come, and read_only would wait for them
 * while the server stays writable. Then read_only, given QUICK_FENCE_S; past it, the clients that
 * came in between are killed and read_only is waited for.
 *
 * With `waitS` (a switchover, whose master is alive and serving), read_only comes first and is
 * given up after that many seconds: setting it waits for every running write statement (and LOCK
 * TABLES … WRITE) to end, and new writes queue behind it meanwhile. A switchover must not block
 * writes for as long as a batch job runs, nor have a read_only it gave up on land later, after it
 * made the old master writable again: the server itself abandons the statement (lock_wait_timeout,
 * MariaDB 10.11 and MySQL 8 alike), not only our client.
 */
export function fenceServer(session: MysqlSession, opts: { readonly waitS?: number } = {}): Promise<FenceOutcome> {
  // Never waits for the cluster's lock: the server may be a frozen master whose lock a deposed
  // controller holds, and the clients it kills include any other controller's sessions.
  return session.unclaimed(() => fence(session, opts));
}

async function fence(session: MysqlSession, opts: { readonly waitS?: number }): Promise<FenceOutcome> {
  const [row] = await session.query<{ read_only: string | number }[]>(session.dialect.overview);
  const wasWritable = Number(row?.read_only) !== 1;
  let killed = 0;
  if (opts.waitS !== undefined) {
    await fenceWithin(session, opts.waitS);
  } else {
    killed += await killClients(session);
    try {
      await fenceWithin(session, QUICK_FENCE_S);
    } catch (error) {
      if (!(error instanceof FenceWaited)) throw error;
      killed += await killClients(session);
      await session.run(session.dialect.fence);
    }
  }
  killed += await killClients(session);
  return { wasWritable, killed };
}

/** Kills every client connection (not replication, not ours); resolves with how many. */
async function killClients(session: MysqlSession): Promise<number> {
  const clients = await session.query<{ id: string | number }[]>(session.dialect.clientSessions);
  let killed = 0;
  for (const { id } of clients) {
    // A session that ended by itself meanwhile answers "unknown thread": not a failure.
    if (await session.query(`KILL CONNECTION ${Number(id)}`).then(() => true, () => false)) killed++;
  }
  return killed;
}

/** read_only could not be had within its bound: running writes held it off. */
export class FenceWaited extends Error {}

async function fenceWithin(session: MysqlSession, waitS: number): Promise<void> {
  const bounded = session.dialect.fenceWithin(waitS);
  if (!bounded) await session.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.ceil(waitS))}`);
  try {
    // The client waits longer than the server: the server's refusal, not our timeout, ends it.
    await session.run(bounded ?? session.dialect.fence, waitS * 1000 + session.timeoutMs);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; errno?: number } }).cause;
    // 1969: MariaDB's max_statement_time ran out.
    if (cause?.code !== 'ER_LOCK_WAIT_TIMEOUT' && cause?.errno !== 1969) throw error;
    const blocking = await runningWrites(session, 0).catch(() => []);
    throw new FenceWaited(`${session.endpoint.name} could not be made read_only within ${waitS} s: ${blocking.length > 0 ? `it waited for ${blocking.join('; ')}` : 'it waited for a running write or a LOCK TABLES … WRITE'}`, { cause: error });
  } finally {
    // A failure here would hide the fence's own; a session that cannot take it is broken and reopened anyway.
    if (!bounded && session.usable) await session.query('SET SESSION lock_wait_timeout = DEFAULT').catch(() => undefined);
  }
}

/** Reads that read_only does not wait for. SELECT … FOR UPDATE and LOCK IN SHARE MODE lock like writes. */
const PLAIN_READ = /^(SELECT|SHOW|EXPLAIN|DESCRIBE|DESC|HELP)\b(?![\s\S]*\b(FOR\s+UPDATE|LOCK\s+IN\s+SHARE\s+MODE)\b)/i;

/**
 * Client statements other than plain reads that have run for at least `minS` seconds, one
 * sentence each (connection id, account, seconds, the statement's start): what read_only would
 * wait for. A plain SELECT does not hold it up; anything not recognised as one is listed.
 */
export async function runningWrites(session: MysqlSession, minS: number): Promise<string[]> {
  type Row = { id: string | number; user: string; host: string; time: string | number; info: string | null };
  const rows = await session.query<Row[]>({
    sql: `SELECT id, user, host, time, info FROM information_schema.processlist
          WHERE command = 'Query' AND time >= ? AND id <> CONNECTION_ID() AND user <> 'system user' ORDER BY time DESC`,
    values: [minS],
  });
  return rows
    .filter((r) => !PLAIN_READ.test((r.info ?? '').replace(/^(\s|\/\*[\s\S]*?\*\/)+/, '')))
    .map((r) => `connection ${r.id} (${r.user}@${r.host}, running ${r.time} s): ${(r.info ?? '').replace(/\s+/g, ' ').slice(0, 120)}`);
}

/**
 * Makes a server writable again after a fence that may still be pending on it (a switchover
 * undone). A read_only still waiting there, from a connection we gave up on or from a controller
 * that died with its socket still open on the server, is killed first: it would land afterwards.
 * "Writable" is read back, not assumed.
 */
export async function unfenceServer(session: MysqlSession): Promise<void> {
  const pending = await session.query<{ id: string | number }[]>(
    `SELECT id FROM information_schema.processlist WHERE command = 'Query' AND info LIKE 'SET GLOBAL %read_only%' AND id <> CONNECTION_ID()`,
  );
  // "Unknown thread": it ended meanwhile.
  for (const { id } of pending) await session.query(`KILL QUERY ${Number(id)}`).catch(() => undefined);
  await semisyncAsMaster(session, true);
  await session.run(session.dialect.unfence);
  const [row] = await session.query<{ read_only: string | number }[]>(session.dialect.overview);
  if (Number(row?.read_only) === 1) throw new Error(`${session.endpoint.name} is still read_only after SET GLOBAL read_only=OFF`);
}
