// npm run nemesis -- [--runs N] [--seed S] [--fault KIND[,KIND…]] [--keep] [--id ID]
// Fault injection against real processes, judged afterwards (Jepsen's way): each run resets a real
// MariaDB cluster (semi-sync as in production), starts a controller, two agents and two writers
// through the hostname, draws a fault schedule from its seed (run i has seed S+i-1), heals every
// fault, lets the system converge, and hands the recorded history to the checker. Exits 1 on any
// violation, printing the seed and the command that reproduce it.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { check, drawSchedule, FAULT_KINDS, NetworkCut } from '@pullover/sandbox';
import { requireMariadb, runMain, sandbox } from './lib/failover-rig.mjs';
import { runSchedule } from './lib/nemesis/run.mjs';
import { runLines, summaryLine } from './lib/nemesis/report.mjs';

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      seed: { type: 'string' },
      fault: { type: 'string' },
      keep: { type: 'boolean', default: false },
      id: { type: 'string', default: '30' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed takes a whole number');
  const faults = values.fault?.split(',') ?? [];
  const unknown = faults.filter((f) => !FAULT_KINDS.includes(f));
  if (unknown.length) throw new Error(`--fault ${unknown.join(',')}: the kinds are ${FAULT_KINDS.join(', ')}`);
  const id = Number(values.id);
  if (!Number.isInteger(id) || id < 30 || id > 39) throw new Error('--id takes a sandbox id from 30 to 39');
  return { runs, seed, faults, keep: values.keep, id };
}

async function main() {
  const { runs, seed, faults, keep, id } = options();
  requireMariadb();
  console.log(`nemesis: ${runs} run(s) from seed ${seed}${faults.length ? `, faults ${faults.join(', ')}` : ''}; semi-sync as in production`);
  // An earlier nemesis killed with SIGKILL could not take its network cut back.
  for (const n of [1, 2, 3]) new NetworkCut(`127.0.${id}.${n}`).heal();
  const cluster = await sandbox(id, { semisync: 'production' });
  const outcomes = [];
  for (let index = 1; index <= runs; index++) {
    const schedule = drawSchedule(seed + index - 1, faults[(index - 1) % faults.length]);
    const dir = join(tmpdir(), `pullover-nemesis-${schedule.seed}-${schedule.kind}`);
    let logs;
    const outcome = { index, runs, id, schedule };
    try {
      outcome.result = await runSchedule(cluster, schedule, {
        logsDir: (history) => {
          if (!keep && history && check(history).violations.length === 0) return undefined;
          logs = dir;
          return dir;
        },
      });
      outcome.verdict = check(outcome.result.history);
    } catch (err) {
      outcome.error = err.message;
    }
    outcome.logs = logs;
    outcomes.push(outcome);
    for (const line of runLines(outcome)) console.log(line);
  }
  console.log(summaryLine(outcomes));
  const failed = outcomes.filter((o) => o.error || o.verdict.violations.length > 0);
  if (failed.length) {
    console.log(`reproduce with seed(s) ${failed.map((o) => `${o.schedule.seed} (${o.schedule.kind})`).join(', ')}`);
    process.exitCode = 1;
  }
}

await runMain(main);
