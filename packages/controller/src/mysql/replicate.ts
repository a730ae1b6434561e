import type { ClusterConfig, ServerConfig } from '../config/load.js';
import type { ReplicationSource } from './dialect.js';
import { stopReplication } from './receiver.js';
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
  await stopReplication(session, opts.timeoutMs);
  await session.run([...adopt, dialect.changeMaster(source), dialect.startReplica], opts.timeoutMs);
}

/** How every replica pullover points reaches `server`: the cluster's port, the replication login, the cluster's heartbeat. */
export function sourceFor(
  cluster: ClusterConfig,
  server: ServerConfig,
  login: { readonly user: string; readonly password: string },
): ReplicationSource {
  const { user, password } = login;
  const heartbeatS = cluster.monitor.replica_heartbeat / 1000;
  return { host: server.address, port: cluster.mysql.port, user, password, heartbeatS };
}
