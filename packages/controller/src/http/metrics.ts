import type { AgentRegistry } from '../agents/registry.js';
import type { MappingPublisher } from '../mapping/publisher.js';
import type { ClusterMonitors } from '../monitor/cluster-monitors.js';
import type { StateKeeper } from '../state/keeper.js';
import { clusterMetrics } from './cluster-metrics.js';
import { label, metric } from './metric-text.js';

/** GET /metrics in the Prometheus text format (version 0.0.4). */
export function renderMetrics(
  publisher: MappingPublisher,
  registry: AgentRegistry,
  keeper: StateKeeper,
  monitors: ClusterMonitors | undefined,
  now: Date,
): string {
  const version = publisher.version;
  const agents = registry.all();
  const current = agents.filter((a) => a.report.applied_version === version).length;
  const lagging = registry.live(now).filter((a) => a.report.applied_version !== version).length;
  const byVersion = new Map<number, number>();
  for (const a of agents) byVersion.set(a.report.applied_version, (byVersion.get(a.report.applied_version) ?? 0) + 1);
  return `${[
    metric('pullover_mapping_version', 'gauge', 'Version of the mapping the controller serves.', [
      ['', version],
    ]),
    metric('pullover_mapping_publishes_total', 'counter', 'Mappings published since start.', [
      ['', publisher.publishes],
    ]),
    metric('pullover_long_polls_parked', 'gauge', 'Mapping long-polls waiting for a new version.', [
      ['', publisher.parked],
    ]),
    metric('pullover_agents', 'gauge', 'Agents that reported since start.', [['', agents.length]]),
    metric('pullover_agents_current', 'gauge', 'Agents whose applied version is the current version.', [
      ['', current],
    ]),
    metric('pullover_agents_lagging', 'gauge', 'Live agents (heard from in the last 5 minutes) not on the current version.', [
      ['', lagging],
    ]),
    metric(
      'pullover_agents_by_applied_version',
      'gauge',
      'Agents per mapping version they last reported as applied: during a failover, the old version drains.',
      [...byVersion].sort(([a], [b]) => a - b).map(([v, n]) => [`{version="${v}"}`, n]),
    ),
    metric('pullover_agent_reports_received_total', 'counter', 'Agent reports accepted since start.', [
      ['', registry.reportsReceived],
    ]),
    metric(
      'pullover_agent_applied_version',
      'gauge',
      'Mapping version each agent last reported as applied.',
      agents.map((a) => [`{agent="${label(a.name)}"}`, a.report.applied_version]),
    ),
    metric(
      'pullover_agent_last_report_timestamp_seconds',
      'gauge',
      'When each agent last reported (Unix time).',
      agents.map((a) => [`{agent="${label(a.name)}"}`, a.received_at.getTime() / 1000]),
    ),
    ...clusterMetrics(keeper, monitors, now),
  ].join('\n')}\n`;
}
