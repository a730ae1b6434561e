// npm run bench:switchover -- [--runs N]
// Planned switchovers of a real MariaDB cluster (sandbox id 52: mysql1 master, mysql2 candidate,
// mysql3; semi-sync) under a write load through the hostname, N times, each from the initial
// topology with a fresh controller and fresh agents. Reports the write-blocked window the controller
// measured (old master read_only → new master writable and published), the whole switchover, and
// what the application saw: the longest gap between two acknowledged writes, and writes lost.
import { requireMariadb, runMain, runsOption, sandbox, withRig } from '../scripts/lib/failover-rig.mjs';
import { median, n } from './stats.mjs';

const RUNS = runsOption();
const TARGET_MS = 500;

async function once(cluster, run) {
  return withRig(cluster, async (rig, writer) => {
    await new Promise((r) => setTimeout(r, 1000));
    const started = performance.now();
    const result = await rig.api('/v1/clusters/myservice/switchover', { to: 'mysql2' });
    const totalMs = performance.now() - started;
    if (result.outcome !== 'done') throw new Error(`run ${run}: switchover ${result.outcome}: ${result.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 500));
    await writer.stop();
    const acks = writer.acknowledged.map((w) => w.at);
    const gap = Math.max(...acks.slice(1).map((at, i) => at - acks[i]));
    const newMaster = cluster.server('mysql2');
    return {
      window: result.write_blocked_ms,
      totalMs,
      gap,
      acknowledged: acks.length,
      lost: (await writer.missingOn(newMaster)).length,
      writable: (await cluster.writableServers()).map((s) => s.name),
      steps: result.steps,
    };
  });
}

async function main() {
  requireMariadb();
  console.log(`switchover bench: ${RUNS} run(s), mysql1 → mysql2 under writes through the hostname`);
  const cluster = await sandbox(52);
  const results = [];
  for (let run = 1; run <= RUNS; run++) {
    const r = await once(cluster, run);
    results.push(r);
    console.log(
      `run ${run}: writes blocked ${n(r.window)} ms, switchover ${n(r.totalMs)} ms, longest gap between acknowledged writes `
      + `${n(r.gap)} ms; ${r.acknowledged} writes acknowledged, lost ${r.lost}; writable: ${r.writable.join(', ')}`,
    );
    console.log(`  ${r.steps.map((s) => `${s.name} ${s.ms} ms`).join(' · ')}`);
  }
  const window = median(results.map((r) => r.window));
  console.log(`\nmedian of ${results.length} run(s):`);
  console.log(`  write-blocked window (controller)         ${n(window).padStart(6)} ms   target < ${TARGET_MS} ms: ${window < TARGET_MS ? 'met' : 'NOT met'}`);
  console.log(`  whole switchover (API call)                ${n(median(results.map((r) => r.totalMs))).padStart(6)} ms`);
  console.log(`  longest gap between acknowledged writes    ${n(median(results.map((r) => r.gap))).padStart(6)} ms`);
  console.log(`  acknowledged writes lost                   ${results.map((r) => r.lost).join(', ')}`);
  if (results.some((r) => r.lost > 0 || r.writable.length !== 1)) process.exitCode = 1;
}

await runMain(main);
