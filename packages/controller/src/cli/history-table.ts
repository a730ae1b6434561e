import type { FailoverRecord, HistoryResponse, SwitchoverResponse } from '@pullover/protocol';
import { table } from './status-table.js';

/** One failover: a header line, then a line per step with its duration. */
export function formatFailover(r: FailoverRecord): string {
  const total = r.finished_at ? `${Date.parse(r.finished_at) - Date.parse(r.started_at)} ms` : 'running';
  const head = `${r.cluster} failover ${r.id} (${r.trigger}): ${r.old_master} → ${r.new_master ?? '?'}, ${r.outcome}${r.version ? `, version ${r.version}` : ''}, ${total} from the first failed ping`;
  const steps = table(
    ['STEP', 'MS', 'AT', 'DETAIL'],
    r.steps.map((s) => [s.name, String(s.ms), s.at, s.detail]),
  );
  return [head, `  why: ${r.reason}`, ...(r.error ? [`  error: ${r.error}`] : []), steps].join('\n');
}

export function formatHistory(h: HistoryResponse): string {
  if (h.failovers.length === 0) return 'no failover yet';
  return h.failovers.map(formatFailover).join('\n\n');
}

/** A switchover's checks, its steps with their durations, and the write-blocked window. */
export function formatSwitchover(r: SwitchoverResponse): string {
  const head =
    r.outcome === 'planned'
      ? `${r.cluster}: switchover ${r.old_master} → ${r.new_master} would work (dry run, nothing changed)`
      : `${r.cluster}: switchover ${r.old_master} → ${r.new_master} ${r.outcome}${r.version ? `, version ${r.version}` : ''}`;
  const lines = [head, ...r.checks.map((c) => `  ok: ${c}`)];
  if (r.steps.length > 0) lines.push(table(['STEP', 'MS', 'DETAIL'], r.steps.map((s) => [s.name, String(s.ms), s.detail])));
  if (r.write_blocked_ms !== null) lines.push(`writes blocked for ${r.write_blocked_ms} ms`);
  if (r.error) lines.push(`error: ${r.error}`);
  return lines.join('\n');
}
