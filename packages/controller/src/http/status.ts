import type { AgentStatus, Status } from '@pullover/protocol';
import type { AgentRecord, AgentRegistry } from '../agents/registry.js';
import type { ClusterMonitors } from '../monitor/cluster-monitors.js';
import type { StateKeeper } from '../state/keeper.js';
import type { ServerObservation } from '../topology/observation.js';

/** GET /v1/status: who the master is, and which agents have caught up with the current version. */
export function buildStatus(
  keeper: StateKeeper,
  registry: AgentRegistry,
  now: Date,
  monitors?: ClusterMonitors,
): Status {
  const state = keeper.state;
  const clusters = keeper.config.clusters.map((cluster) => {
    const published = state.clusters[cluster.name];
    const monitor = monitors?.monitor(cluster.name);
    const health = monitor?.health;
    const failover = keeper.failoverState(cluster.name);
    const fenced = keeper.fencedServers(cluster.name);
    return {
      name: cluster.name,
      master: published?.master ?? '',
      hostnames: [...(published?.hostnames ?? cluster.master_hostnames)],
      servers: cluster.servers.map((server) => ({
        name: server.name,
        address: server.address,
        role: server.name === published?.master ? ('master' as const) : ('replica' as const),
        candidate: server.candidate,
        no_master: server.no_master,
        fenced: fenced.includes(server.name),
        observed: observed(monitor?.observation(server.name)),
      })),
      health: health
        ? { state: health.verdict.state, sentence: health.verdict.sentence, since: health.since.toISOString() }
        : null,
      failover: {
        auto: cluster.failover.auto,
        blocked_until: keeper.blockedUntil(cluster.name, now) ? failover.blocked_until : null,
        paused_until: keeper.pausedUntil(cluster.name, now)?.until.toISOString() ?? null,
        pause_reason: keeper.pausedUntil(cluster.name, now)?.reason ?? null,
        running: failover.running !== null,
        failed_steps: lastFailedSteps(keeper, cluster.name),
      },
    };
  });
  const agents = registry.all().map((record) => agentStatus(record, state.version, now));
  return {
    version: state.version,
    issued_at: state.issued_at,
    clusters,
    agents,
    agents_current: agents.filter((a) => a.current).length,
    agents_total: agents.length,
  };
}

/** `name: detail` of each step the cluster's last filed failover marked failed. */
export function lastFailedSteps(keeper: StateKeeper, cluster: string): string[] {
  const last = keeper.state.failovers.findLast((r) => r.cluster === cluster);
  return (last?.steps ?? []).filter((s) => s.failed).map((s) => `${s.name}: ${s.detail}`);
}

function agentStatus(record: AgentRecord, version: number, now: Date): AgentStatus {
  const { report } = record;
  return {
    name: record.name,
    applied_version: report.applied_version,
    current: report.applied_version === version,
    block_hash: report.block_hash,
    hosts_file: report.hosts_file,
    last_report_at: record.received_at.toISOString(),
    last_report_age_s: Math.max(0, Math.round((now.getTime() - record.received_at.getTime()) / 100) / 10),
    masters: [...report.masters],
    ...(report.error !== undefined ? { error: report.error } : {}),
    remote_address: record.remote_address,
    bound: record.bound,
  };
}

function observed(o: ServerObservation | undefined): Status['clusters'][number]['servers'][number]['observed'] {
  if (!o) return null;
  return {
    reachable: o.reachable,
    read_only: o.readOnly ?? null,
    replicating_from: o.replica ? o.replica.masterHost : null,
    io_running: o.replica ? o.replica.io : null,
    sql_running: o.replica ? o.replica.sqlRunning : null,
    lag_s: o.replica?.secondsBehind ?? null,
    gtid: o.executedGtid ?? null,
    ...(o.failure ? { error: o.failure.message } : {}),
    at: o.at.toISOString(),
  };
}
