import type { ClusterConfig, LoadedConfig, ServerConfig } from '../config/load.js';
import { failureOf, MysqlSession } from '../mysql/session.js';
import { initialMaster } from '../state/published.js';
import type { ControllerState } from '../state/schema.js';
import { ClusterObserver, type Login } from '../topology/observer.js';
import type { ClusterBase, ClusterFacts, ServerFacts } from './facts.js';
import { failoverBound } from './semisync.js';

// The I/O of `pullover-controller check`: one look at every server of a cluster, through the same
// observer the monitor uses, plus the grants and settings a failover depends on. Nothing is changed.

// SHOW … WHERE … IN lists only what the server has: a name of the other flavor is simply absent.
const VARIABLES = [
  'log_bin', 'log_slave_updates', 'log_replica_updates', 'gtid_strict_mode', 'gtid_mode', 'enforce_gtid_consistency',
  'rpl_semi_sync_master_enabled', 'rpl_semi_sync_source_enabled',
  'rpl_semi_sync_master_timeout', 'rpl_semi_sync_source_timeout',
  'rpl_semi_sync_master_wait_no_slave', 'rpl_semi_sync_source_wait_no_replica',
  'rpl_semi_sync_slave_enabled', 'rpl_semi_sync_replica_enabled',
  'slave_net_timeout', 'replica_net_timeout',
];
const STATUS = [
  'Rpl_semi_sync_master_status', 'Rpl_semi_sync_source_status',
  'Rpl_semi_sync_master_clients', 'Rpl_semi_sync_source_clients',
];

/** The master the controller would act on: the state dir's if it has one, else the config's first start. */
export function currentMaster(cluster: ClusterConfig, state: ControllerState | null): { master: string; from: string } {
  const saved = state?.clusters[cluster.name]?.master;
  if (saved !== undefined && cluster.servers.some((s) => s.name === saved)) return { master: saved, from: 'state.json' };
  return { master: initialMaster(cluster).name, from: cluster.master ? 'master: in the config' : 'the first server in the config' };
}

export async function gatherCluster(
  config: LoadedConfig,
  cluster: ClusterConfig,
  state: ControllerState | null,
  onServer: (c: ClusterBase, s: ServerFacts) => void,
): Promise<ClusterFacts> {
  const secrets = config.secrets.mysql[cluster.name];
  const login: Login = { user: cluster.mysql.user, password: secrets?.password ?? '' };
  const replication: Login = { user: cluster.mysql.replication_user, password: secrets?.replication_password ?? '' };
  const { master, from } = currentMaster(cluster, state);
  const failover = state?.failover[cluster.name];
  const base: ClusterBase = {
    cluster: cluster.name,
    port: cluster.mysql.port,
    user: login.user,
    replicationUser: replication.user,
    master,
    masterFrom: from,
    fenced: failover?.fenced ?? [],
    blockedUntil: failover?.blocked_until ?? null,
    auto: cluster.failover.auto,
    timeoutMs: cluster.monitor.timeout,
    replicaHeartbeatMs: cluster.monitor.replica_heartbeat,
    failoverBound: failoverBound(cluster),
  };
  const observer = new ClusterObserver(cluster, login);
  try {
    const servers = await Promise.all(cluster.servers.map(async (server) => {
      // Replicas log in to whichever server becomes the master: try it where that can happen.
      const leads = !server.no_master && !base.fenced.includes(server.name);
      const facts = await gatherServer(observer, server, leads ? replication : undefined);
      onServer(base, facts);
      return facts;
    }));
    return { ...base, servers };
  } finally {
    observer.close();
  }
}

async function gatherServer(
  observer: ClusterObserver,
  server: ServerConfig,
  replication: Login | undefined,
): Promise<ServerFacts> {
  const observation = await observer.observe(server.name);
  // Logged in but a query was refused: the session is still open, and the grants say why.
  const session = observation.reachable || observation.failure?.kind === 'error'
    ? await observer.session(server.name).catch(() => undefined)
    : undefined;
  const facts: ServerFacts = {
    name: server.name,
    address: server.address,
    candidate: server.candidate,
    no_master: server.no_master,
    observation,
    loggedIn: session !== undefined,
    grants: [],
    variables: {},
    status: {},
  };
  if (!session) return facts;
  return {
    ...facts,
    grants: await grantsOf(session).catch(() => []),
    variables: await valuesOf(session, 'VARIABLES', VARIABLES).catch(() => ({})),
    status: await valuesOf(session, 'STATUS', STATUS).catch(() => ({})),
    ...(replication ? { replication: await replicationLogin(observer, server, replication) } : {}),
  };
}

async function grantsOf(session: MysqlSession): Promise<string[]> {
  const rows = await session.query<Record<string, unknown>[]>('SHOW GRANTS');
  return rows.map((row) => String(Object.values(row)[0] ?? ''));
}

async function valuesOf(session: MysqlSession, kind: 'VARIABLES' | 'STATUS', names: readonly string[]): Promise<Record<string, string>> {
  const rows = await session.query<{ Variable_name: string; Value: unknown }[]>({
    sql: `SHOW GLOBAL ${kind} WHERE Variable_name IN (?)`,
    values: [names],
  });
  return Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), String(r.Value ?? '')]));
}

/** A login as the replication user, from this host, and its own grants. */
async function replicationLogin(observer: ClusterObserver, server: ServerConfig, login: Login): Promise<NonNullable<ServerFacts['replication']>> {
  try {
    const session = await MysqlSession.open(
      { name: server.name, host: server.address, port: observer.cluster.mysql.port, ...login },
      observer.timeoutMs,
    );
    try {
      return { grants: await grantsOf(session) };
    } finally {
      await session.close();
    }
  } catch (error) {
    const failure = failureOf(server.name, error);
    return { failure: { kind: failure.kind, message: failure.message } };
  }
}
