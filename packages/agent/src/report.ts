import type { AgentReport, Mapping } from '@pullover/protocol';
import type { FileStatus } from './applier.js';
import type { AgentConfig } from './config.js';
import { probeGreeting } from './probe.js';
import { AGENT_VERSION } from './version.js';

/**
 * What the agent tells the controller: what its hosts file holds, and whether each published
 * master answers from this app server (a greeting probe, so a hung mysqld counts as unreachable).
 */
export async function buildReport(
  config: AgentConfig,
  mapping: Mapping | null,
  file: FileStatus,
): Promise<AgentReport> {
  const masters = await Promise.all(
    (mapping?.clusters ?? []).flatMap((cluster) => {
      const entry = cluster.entries[0];
      if (!entry) return [];
      return [
        probeGreeting(entry.address, cluster.port, config.probe_timeout).then((probe) => ({
          cluster: cluster.name,
          address: entry.address,
          port: cluster.port,
          reachable: probe.reachable,
          detail: probe.detail,
          checked_at: new Date().toISOString(),
        })),
      ];
    }),
  );
  return {
    applied_version: file.version,
    block_hash: file.blockHash,
    hosts_file: config.hosts_file,
    masters,
    ...(file.error ? { error: file.error.slice(0, 1000) } : {}),
    agent_version: AGENT_VERSION,
  };
}
