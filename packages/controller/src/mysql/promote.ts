import { stopReplication } from './receiver.js';
import { semisyncAsMaster } from './semisync.js';
import type { MysqlSession } from './session.js';

/**
 * Makes a replica the master: it stops replicating and forgets its old master, turns semi-sync as
 * a master on (where the cluster uses semi-sync), and only then takes writes — so that no commit
 * on it is acknowledged before a replica holds it. `masterAnswers`: a switchover's, alive and
 * read_only. Resolves with the semi-sync change, if any.
 */
export async function promoteServer(
  session: MysqlSession,
  timeoutMs: number,
  masterAnswers = false,
): Promise<string | undefined> {
  await stopReplication(session, timeoutMs, masterAnswers);
  await session.run(session.dialect.promote, timeoutMs);
  const semisync = await semisyncAsMaster(session, true);
  await session.run(session.dialect.unfence, timeoutMs);
  return semisync;
}
