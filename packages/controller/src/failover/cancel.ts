import type { ExecutorDeps } from './executor.js';
import { unfenceServer } from './fence.js';
import { repointServer } from './repoint.js';
import type { RunningFailover } from '../state/schema.js';

/**
 * A journaled failover whose old master answered before anything was promoted: it stays the
 * master, writable again, and every survivor replicates from it. Filed first: from then on the
 * fencer leaves the old master alone.
 */
export async function cancelFailover(
  deps: ExecutorDeps,
  journal: RunningFailover,
  survivors: readonly string[],
  sentence: string,
): Promise<void> {
  const { keeper, observer, cluster, now } = deps;
  const old = observer.server(journal.record.old_master);
  await keeper.finishFailover(cluster.name, { ...journal.record, outcome: 'cancelled', error: sentence, finished_at: now().toISOString() });
  const session = await observer.session(old.name);
  await unfenceServer(session);
  const [row] = await session.query<{ gtid: string }[]>(session.dialect.overview);
  const timeoutMs = cluster.failover.catchup_timeout;
  const results = await Promise.all(survivors.map((n) => repointServer(deps, n, old, String(row?.gtid ?? ''), { timeoutMs })));
  deps.log({ level: 'warn', message: `${cluster.name}: ${sentence}; writable again; ${results.map((r) => r.detail).join('; ')}` });
}
