import type { AgentStatus, Status } from '@pullover/protocol';
import type { AgentRecord, AgentRegistry } from '../agents/registry.js';
import type { StateKeeper } from '../state/keeper.js';

/** GET /v1/status: who the master is, and which agents have caught up with the current version. */
export function buildStatus(keeper: StateKeeper, registry: AgentRegistry, now: Date): Status {
  const state = keeper.state;
  const clusters = keeper.config.clusters.map((cluster) => {
    const published = state.clusters[cluster.name];
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
      })),
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
  };
}
