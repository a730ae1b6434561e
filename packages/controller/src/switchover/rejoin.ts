import type { RejoinResponse } from '@pullover/protocol';
import type { ClusterConfig } from '../config/load.js';
import { fenceServer } from '../failover/fence.js';
import { repointChecked } from '../failover/repoint.js';
import { errantTransactions, type Holdings } from '../mysql/gtid.js';
import type { MysqlSession } from '../mysql/session.js';
import { semisyncAsMaster } from '../mysql/semisync.js';
import type { StateKeeper } from '../state/keeper.js';
import type { ClusterObserver } from '../topology/observer.js';

export interface RejoinDeps {
  readonly cluster: ClusterConfig;
  readonly keeper: StateKeeper;
  readonly observer: ClusterObserver;
  readonly replication: { readonly user: string; readonly password: string };
}

/**
 * A former master (or any stray server) becomes a replica of the current master, but only if it
 * holds no transaction the master lacks: replicating on top of errant transactions would hide
 * them, and they would resurface as conflicts or vanish at the next failover. Read-only either way.
 */
export async function rejoin(deps: RejoinDeps, server: string): Promise<RejoinResponse> {
  const { cluster, keeper, observer } = deps;
  const master = keeper.state.clusters[cluster.name]?.master ?? '';
  const base = { cluster: cluster.name, server, master };
  if (server === master) return { ...base, outcome: 'refused', errant: '', detail: `${server} is the master` };

  const session = await observer.session(server);
  // Read-only before anything else: it must not take a write while we look at it.
  await fenceServer(session);
  // Its semi-sync as a master, on since it was the master, would hold its SQL thread (and STOP SLAVE).
  await semisyncAsMaster(session, false);
  const masterSession = await observer.session(master);
  const [mine, theirs] = await Promise.all([holdingsOf(session), holdingsOf(masterSession)]);
  const { errant, caveat } = errantTransactions(session.dialect.flavor, mine, theirs, { mine: server, master });
  if (errant !== '') {
    return {
      ...base,
      outcome: 'refused',
      errant,
      detail: `${server} has transactions ${master} lacks (${errant}); it stays read_only and fenced.${caveat ? ` Note: ${caveat}.` : ''} Look at them on ${server} (SHOW BINLOG EVENTS, mysqlbinlog); re-apply on ${master} what must be kept, then rebuild ${server} from a backup or clone of ${master} and run rejoin again`,
    };
  }
  // The same repoint as a failover's: rejoined means both threads run on the master, checked.
  const opts = { formerMaster: true, timeoutMs: cluster.failover.catchup_timeout };
  const repointed = await repointChecked(deps, server, observer.server(master), theirs.executed, opts);
  if (!repointed.ok) return { ...base, outcome: 'refused', errant: '', detail: `${repointed.detail}; it stays read_only and fenced` };
  await keeper.unfence(cluster.name, server);
  return {
    ...base,
    outcome: 'rejoined',
    errant: '',
    detail: `${server} (at ${mine.executed || 'empty'}) replicates from ${master} (at ${theirs.executed || 'empty'}), read_only${caveat ? `; compared less strictly: ${caveat}` : ''}`,
  };
}

async function holdingsOf(session: MysqlSession): Promise<Holdings> {
  const [row] = await session.query<Record<string, unknown>[]>(session.dialect.holdings);
  return session.dialect.parseHoldings(row ?? {});
}
