import type { MysqlSession } from '../mysql/session.js';

export interface FenceOutcome {
  readonly wasWritable: boolean;
  readonly killed: number;
}

/**
 * read_only first, then the client connections: a pooled connection opened before the failover
 * would otherwise keep writing to the old master while new ones write to the new one.
 */
export async function fenceServer(session: MysqlSession): Promise<FenceOutcome> {
  const [row] = await session.query<{ read_only: string | number }[]>(session.dialect.overview);
  const wasWritable = Number(row?.read_only) !== 1;
  await session.run(session.dialect.fence);
  const clients = await session.query<{ id: string | number }[]>(session.dialect.clientSessions);
  let killed = 0;
  for (const { id } of clients) {
    // A session that ended by itself meanwhile answers "unknown thread": not a failure.
    if (await session.query(`KILL CONNECTION ${Number(id)}`).then(() => true, () => false)) killed++;
  }
  return { wasWritable, killed };
}
