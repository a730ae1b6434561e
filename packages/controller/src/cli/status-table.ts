import type { AgentStatus, Status } from '@pullover/protocol';

/** Left-aligned columns separated by two spaces; trailing blanks trimmed. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** 4 → "4s", 125 → "2m5s", 7300 → "2h1m", 200000 → "2d7h". */
export function formatAge(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** Whether the agent reaches each cluster's current master, as it last said. */
function reach(agent: AgentStatus, status: Status): string {
  const parts = status.clusters.map((cluster) => {
    const address = cluster.servers.find((s) => s.name === cluster.master)?.address;
    const seen = agent.masters.find((m) => m.cluster === cluster.name && m.address === address);
    const verdict = seen === undefined ? 'not checked' : seen.reachable ? 'yes' : `NO (${seen.detail})`;
    return status.clusters.length === 1 ? verdict : `${cluster.name}: ${verdict}`;
  });
  return parts.join(', ');
}

type ClusterStatus = Status['clusters'][number];
type ServerStatus = ClusterStatus['servers'][number];

function health(cluster: ClusterStatus): string {
  const h = cluster.health;
  return h ? `${h.state} since ${h.since}: ${h.sentence}` : 'not checked yet (the controller has not looked at the master)';
}

// A blocked or disabled failover must say what unblocks it: the operator reads this during an outage.
function automatic(cluster: ClusterStatus): string {
  const { failover } = cluster;
  if (failover.running) return 'a failover is RUNNING now; pullover-controller history shows its steps';
  if (!failover.auto) {
    return `OFF (failover.auto: false); replace a dead master with pullover-controller failover --cluster ${cluster.name}`;
  }
  if (failover.paused_until !== null) {
    const why = failover.pause_reason ? ` (${failover.pause_reason})` : '';
    return `PAUSED until ${failover.paused_until}${why}; pullover-controller resume --cluster ${cluster.name} re-arms it`;
  }
  if (failover.blocked_until !== null) {
    return `BLOCKED until ${failover.blocked_until} after the last failover; check the cluster, then run pullover-controller ack --cluster ${cluster.name}`;
  }
  return 'armed';
}

function role(server: ServerStatus): string {
  const tags = [
    ...(server.fenced ? ['FENCED'] : []),
    ...(server.candidate ? ['candidate'] : []),
    ...(server.no_master ? ['no_master'] : []),
  ];
  return [server.role, ...tags].join(', ');
}

/** One row of what the controller last saw of a server; its master by name where it is one of ours. */
function observedRow(server: ServerStatus, cluster: ClusterStatus): string[] {
  const o = server.observed;
  if (!o) return [server.name, role(server), 'not observed yet'];
  if (!o.reachable) return [server.name, role(server), 'NO', '', '', '', '', '', '', o.error ?? ''];
  const from = o.replicating_from;
  return [
    server.name,
    role(server),
    'yes',
    o.read_only === null ? '?' : o.read_only ? 'ON' : 'OFF',
    from === null ? '-' : (cluster.servers.find((s) => s.address === from)?.name ?? from),
    o.io_running === null ? '-' : o.io_running === 'yes' ? 'yes' : o.io_running.toUpperCase(),
    o.sql_running === null ? '-' : o.sql_running ? 'yes' : 'NO',
    o.lag_s === null ? '-' : formatAge(o.lag_s),
    o.gtid ?? '',
    o.error ?? '',
  ];
}

function clusterDetail(cluster: ClusterStatus): string {
  const servers = table(
    ['SERVER', 'ROLE', 'REACHABLE', 'READ_ONLY', 'REPLICATES FROM', 'IO', 'SQL', 'LAG', 'GTID', 'ERROR'],
    cluster.servers.map((server) => observedRow(server, cluster)),
  );
  return [
    cluster.name,
    `  health: ${health(cluster)}`,
    `  automatic failover: ${automatic(cluster)}`,
    ...(cluster.failover.failed_steps ?? []).map((step) => `  the last failover left undone: ${step}`),
    ...servers.split('\n').map((line) => `  ${line}`),
  ].join('\n');
}

/** The human form of GET /v1/status. */
export function formatStatus(status: Status): string {
  const clusters = table(
    ['CLUSTER', 'MASTER', 'HOSTNAMES'],
    status.clusters.map((cluster) => {
      const address = cluster.servers.find((s) => s.name === cluster.master)?.address ?? '?';
      return [cluster.name, `${cluster.master} (${address})`, cluster.hostnames.join(', ')];
    }),
  );
  const lines = [clusters, ''];
  for (const cluster of status.clusters) lines.push(clusterDetail(cluster), '');
  lines.push(`mapping version ${status.version}, issued ${status.issued_at}`, '');
  if (status.agents.length === 0) {
    lines.push('no agent has reported since the controller started');
  } else {
    lines.push(
      table(
        ['AGENT', 'APPLIED', 'STATE', 'LAST REPORT', 'REACHES MASTER', 'ERROR'],
        status.agents.map((agent) => [
          agent.bound ? agent.name : `${agent.name} (unbound)`,
          String(agent.applied_version),
          agent.current ? 'current' : agent.applied_version > status.version ? 'AHEAD' : 'BEHIND',
          `${formatAge(agent.last_report_age_s)} ago`,
          reach(agent, status),
          agent.error ?? '',
        ]),
      ),
    );
  }
  lines.push('', `${status.agents_current}/${status.agents_total} agents on version ${status.version}`);
  const unbound = status.agents.filter((a) => !a.bound).length;
  if (unbound > 0) {
    lines.push(
      `${unbound} agent(s) unbound: they report with a token line that names no agent, so they never veto a failover; `
      + 'give each its own "NAME TOKEN" line (pullover-controller convert-tokens --help)',
    );
  }
  return lines.join('\n');
}
