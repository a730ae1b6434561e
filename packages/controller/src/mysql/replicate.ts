import type { ReplicationSource } from './dialect.js';
import type { MysqlSession } from './session.js';

/**
 * Makes the session's server replicate from `source` by GTID. A former master first takes what
 * it executed as its starting point (it was nobody's replica: its replica position is stale).
 */
export async function replicateFrom(
  session: MysqlSession,
  source: ReplicationSource,
  opts: { readonly formerMaster?: boolean; readonly timeoutMs: number },
): Promise<void> {
  const { dialect } = session;
  const adopt = opts.formerMaster ? dialect.adoptExecutedPosition : [];
  const statements = [dialect.stopReplica, ...adopt, dialect.changeMaster(source), dialect.startReplica];
  await session.run(statements, opts.timeoutMs);
}
