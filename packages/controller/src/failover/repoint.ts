import type { ServerConfig } from '../config/load.js';
import { describeCause } from '../errors.js';
import { gtidContains, gtidMissing } from '../mysql/gtid.js';
import { replicateFrom, sourceFor } from '../mysql/replicate.js';
import { semisyncAsMaster } from '../mysql/semisync.js';
import type { ClusterObserver } from '../topology/observer.js';

// One way to make a server replicate from the master, for failover, switchover and rejoin: it is
// read-only first, it never replicates on top of transactions its new source lacks, and "repointed"
// means both threads run on the new source without error — checked, not assumed.

export interface RepointOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface RepointDeps {
  readonly observer: ClusterObserver;
  readonly replication: { readonly user: string; readonly password: string };
}

/** How often a repointed replica is looked at until both its threads run. */
const POLL_MS = 50;

/** How long a repointed replica may take to run both threads on its new source before it counts as not repointed. */
const REPLICATING_WITHIN_MS = 10_000;

/**
 * Makes `name` a read-only replica of `source`, whose executed position is `sourceExecuted`. A
 * server holding transactions the source lacks is left read-only and out of replication: applying
 * the source's stream on top would hide them (and with gtid_strict_mode it would stop on them).
 */
export async function repointServer(
  deps: RepointDeps,
  name: string,
  source: ServerConfig,
  sourceExecuted: string,
  opts: { readonly formerMaster?: boolean; readonly timeoutMs: number },
): Promise<RepointOutcome> {
  const { observer } = deps;
  const cluster = observer.cluster.name;
  try {
    const session = await observer.session(name);
    // read_only first: a writable server that replicates takes writes from two sides.
    await session.run(session.dialect.fence);
    await semisyncAsMaster(session, false);
    const [row] = await session.query<{ gtid: string }[]>(session.dialect.overview);
    const mine = String(row?.gtid ?? '');
    const flavor = session.dialect.flavor;
    if (!gtidContains(flavor, sourceExecuted, mine)) {
      const extra = gtidMissing(flavor, mine, sourceExecuted);
      return { name, ok: false, detail: `${name} holds transactions ${source.name} lacks (${extra}): left read_only and out of replication; see pullover-controller rejoin --cluster ${cluster} ${name}` };
    }
    const [status] = await session.query<Record<string, unknown>[]>(session.dialect.replicaStatus);
    const current = status ? session.dialect.parseReplicaStatus(status) : null;
    if (current?.masterHost === source.address && current.io !== 'no' && current.sqlRunning) {
      return { name, ok: true, detail: `${name} already replicates from ${source.name}` };
    }
    const from = sourceFor(observer.cluster, source, deps.replication);
    await replicateFrom(session, from, { formerMaster: opts.formerMaster ?? false, timeoutMs: opts.timeoutMs });
    return { name, ok: true, detail: `${name} repointed` };
  } catch (error) {
    return { name, ok: false, detail: `${name} NOT repointed (${describeCause(error)}); once it answers: pullover-controller rejoin --cluster ${cluster} ${name}` };
  }
}

/** Waits until `name` replicates from `source` with both threads running and no error. */
export async function verifyReplicating(
  observer: ClusterObserver,
  name: string,
  source: ServerConfig,
  timeoutMs = REPLICATING_WITHIN_MS,
): Promise<RepointOutcome> {
  const deadline = performance.now() + timeoutMs;
  let why = 'not observed';
  for (;;) {
    const o = await observer.observe(name);
    const r = o.replica;
    if (!o.reachable) why = `does not answer (${o.failure?.message})`;
    else if (!r || r.masterHost !== source.address) why = `replicates from ${r?.masterHost ?? 'nobody'}`;
    else if (r.lastIoErrno !== 0 || r.lastSqlErrno !== 0) why = `has replication errors (IO ${r.lastIoErrno} ${r.lastIoError}; SQL ${r.lastSqlErrno} ${r.lastSqlError})`;
    else if (r.io === 'yes' && r.sqlRunning) return { name, ok: true, detail: `${name} replicates from ${source.name}` };
    else why = `has its IO thread ${r.io} and its SQL thread ${r.sqlRunning ? 'running' : 'stopped'}`;
    if (performance.now() >= deadline) return { name, ok: false, detail: `${name} ${why} ${timeoutMs} ms after it was repointed at ${source.name}` };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Repoints `name` and waits until it runs on `source`: for callers with nothing to publish in between. */
export async function repointChecked(...args: Parameters<typeof repointServer>): Promise<RepointOutcome> {
  const [deps, name, source] = args;
  const repointed = await repointServer(...args);
  return repointed.ok ? verifyReplicating(deps.observer, name, source) : repointed;
}
