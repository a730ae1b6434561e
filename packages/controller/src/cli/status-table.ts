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

/** The human form of GET /v1/status. */
export function formatStatus(status: Status): string {
  const clusters = table(
    ['CLUSTER', 'MASTER', 'HOSTNAMES'],
    status.clusters.map((cluster) => {
      const address = cluster.servers.find((s) => s.name === cluster.master)?.address ?? '?';
      return [cluster.name, `${cluster.master} (${address})`, cluster.hostnames.join(', ')];
    }),
  );
  const lines = [clusters, '', `mapping version ${status.version}, issued ${status.issued_at}`, ''];
  if (status.agents.length === 0) {
    lines.push('no agent has reported since the controller started');
  } else {
    lines.push(
      table(
        ['AGENT', 'APPLIED', 'STATE', 'LAST REPORT', 'REACHES MASTER', 'ERROR'],
        status.agents.map((agent) => [
          agent.name,
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
  return lines.join('\n');
}
