// What the nemesis prints: one line per run, the evidence of a violation with the seed that
// reproduces it, and the summary line.
import { describeSchedule, FAULT_KINDS } from '@pullover/sandbox';

const n = (x) => Math.round(x).toLocaleString('en-US');

export function reproduce(schedule, id) {
  return `npm run nemesis -- --runs 1 --seed ${schedule.seed} --fault ${schedule.kind}${id === 30 ? '' : ` --id ${id}`}`;
}

/** The line of one run, and what follows it: violations with evidence, notes, a failed run's error. */
export function runLines({ index, runs, id, schedule, result, verdict, error, logs }) {
  const head = `run ${index}/${runs} seed ${schedule.seed} ${schedule.kind}: ${describeSchedule(schedule)}`;
  if (error) return [`${head} → ERROR ${error}`, ...(logs ? [`  logs: ${logs}`] : [])];
  const { failedOver, finalMaster, toOneWritableMs, violations, notes } = verdict;
  const records = result.history.final.failovers.map((f) => `${f.old_master}→${f.new_master ?? '?'} ${f.outcome}`);
  const outcome = [
    records.length ? `failover ${records.join(', ')}` : 'no failover',
    `master at the end ${finalMaster ?? 'none'}`,
    ...(failedOver ? [`one writable master ${toOneWritableMs === undefined ? 'never seen' : `${n(toOneWritableMs)} ms after the fault`}`] : []),
  ];
  const lines = [`${head} → ${violations.length ? `VIOLATED (${violations.length})` : 'ok'}; ${outcome.join('; ')}`];
  for (const v of violations) lines.push(`  ✗ ${v.invariant}: ${v.evidence}`);
  if (result.unsettled) lines.push(`  · not converged after healing: ${result.unsettled}`);
  for (const f of result.faults.filter((x) => x.error)) lines.push(`  · ${f.action.do} failed: ${f.error}`);
  for (const note of notes) lines.push(`  · ${note}`);
  if (violations.length) lines.push(`  reproduce: ${reproduce(schedule, id)}`);
  if (logs) lines.push(`  logs: ${logs}`);
  return lines;
}

export function summaryLine(outcomes) {
  const drawn = FAULT_KINDS
    .map((k) => [k, outcomes.filter((o) => o.schedule.kind === k).length])
    .filter(([, c]) => c > 0);
  const judged = outcomes.filter((o) => o.verdict);
  const times = judged.map((o) => o.verdict.toOneWritableMs).filter((t) => t !== undefined).sort((a, b) => a - b);
  const violations = judged.reduce((sum, o) => sum + o.verdict.violations.length, 0);
  const errors = outcomes.length - judged.length;
  const median = times.length ? times[Math.floor((times.length - 1) / 2)] : undefined;
  return [
    `${outcomes.length} run(s)`,
    `faults ${drawn.map(([k, c]) => `${k} ${c}`).join(', ')}`,
    `failovers ${judged.filter((o) => o.result.history.final.failovers.some((f) => f.outcome === 'done')).length}`,
    `violations ${violations}${errors ? `, runs that failed to run ${errors}` : ''}`,
    `one writable master after the fault: ${times.length ? `median ${n(median)} ms, worst ${n(times.at(-1))} ms` : '-'}`,
  ].join(' · ');
}
