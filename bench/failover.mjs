// npm run bench:failover -- [--runs N]
// SIGKILL of the master of a real MariaDB cluster (sandbox id 51: mysql1 master, mysql2 candidate,
// mysql3; semi-sync) under a write load through the hostname, N times. Every run starts from the
// initial topology (cluster.reset()) with a fresh controller state dir and fresh agents. Measures
// kill → every app host's file names the new master, kill → first write acknowledged by it, and
// each failover step's share (from GET /v1/history). Default monitor settings: 1 s interval, 3 failures.
import { killMaster, requireMariadb, runMain, runsOption, sandbox, withRig } from '../scripts/lib/failover-rig.mjs';
import { median, n, pct } from './stats.mjs';

const RUNS = runsOption();
const TARGET_MS = 4500;

async function once(cluster, run) {
  return withRig(cluster, async (rig, writer) => {
    // The kill lands anywhere within a ping interval, as a real crash would.
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1000));
    const outcome = await killMaster(rig);
    await writer.stop();
    const { record, killAt } = outcome;
    if (!record) throw new Error(`run ${run}: no failover within 30 s`);
    if (record.outcome !== 'done') throw new Error(`run ${run}: failover ${record.outcome}: ${record.error ?? ''}`);
    const newMaster = cluster.server(record.new_master);
    const switched = [...outcome.hosts.values()].filter((h) => h.address === newMaster.address);
    let previous = killAt;
    const steps = record.steps.map((step) => {
      const at = Date.parse(step.at);
      const row = { name: step.name, sinceKill: at - killAt, delta: at - previous, controllerMs: step.ms };
      previous = at;
      return row;
    });
    const agentsApplied = steps.find((s) => s.name === 'agents-applied')?.sinceKill;
    return {
      newMaster: newMaster.name,
      allHosts: switched.length === rig.agents.length ? Math.max(...switched.map((h) => h.at)) - killAt : undefined,
      firstWrite: outcome.firstWrite?.address === newMaster.address ? outcome.firstWrite.at - killAt : undefined,
      agentsApplied,
      steps,
      acknowledged: writer.acknowledged.length,
      lost: (await writer.missingOn(newMaster)).length,
      writable: (await cluster.writableServers()).map((s) => s.name),
    };
  });
}

function printRun(run, r) {
  console.log(
    `\nrun ${run}: kill → all app hosts switched ${n(r.allHosts)} ms, kill → first write on ${r.newMaster} ${n(r.firstWrite)} ms; `
    + `${n(r.acknowledged)} writes acknowledged, lost ${r.lost}; writable: ${r.writable.join(', ')}`,
  );
  console.log(`  ${'step'.padEnd(15)} ${'since kill'.padStart(10)} ${'Δ ms'.padStart(7)} ${'share'.padStart(6)} ${'controller ms'.padStart(13)}`);
  for (const s of r.steps) {
    console.log(
      `  ${s.name.padEnd(15)} ${n(s.sinceKill).padStart(10)} ${n(s.delta).padStart(7)} `
      + `${pct(s.delta, r.agentsApplied).padStart(6)} ${n(s.controllerMs).padStart(13)}`,
    );
  }
}

async function main() {
  requireMariadb();
  console.log(`failover bench: ${RUNS} run(s), SIGKILL of the master under writes; monitor 1 s interval, 1 s timeout, 3 failures`);
  const cluster = await sandbox(51);
  const results = [];
  const failed = [];
  for (let run = 1; run <= RUNS; run++) {
    try {
      const r = await once(cluster, run);
      results.push(r);
      printRun(run, r);
    } catch (err) {
      failed.push(run);
      console.log(`\nrun ${run} failed: ${err.message}`);
    }
  }
  if (results.length === 0) throw new Error('no run succeeded');

  const allHosts = median(results.map((r) => r.allHosts));
  const applied = median(results.map((r) => r.agentsApplied));
  console.log(`\nmedian of ${results.length} run(s)${failed.length ? ` (failed: ${failed.join(', ')})` : ''}:`);
  console.log(`  kill → all app hosts switched (files)     ${n(allHosts).padStart(6)} ms   target ≤ ${n(TARGET_MS)} ms: ${allHosts <= TARGET_MS ? 'met' : 'NOT met'}`);
  console.log(`  kill → agents-applied (controller's step) ${n(applied).padStart(6)} ms`);
  console.log(`  kill → first write on the new master      ${n(median(results.map((r) => r.firstWrite))).padStart(6)} ms`);
  console.log(`  acknowledged writes lost                  ${results.map((r) => r.lost).join(', ')}`);
  console.log(`  writable servers after                    ${results.map((r) => r.writable.join('+')).join(', ')}`);
  console.log(`  ${'step'.padEnd(15)} ${'median Δ ms'.padStart(12)} ${'share'.padStart(6)}`);
  for (const name of results[0].steps.map((s) => s.name)) {
    const delta = median(results.map((r) => r.steps.find((s) => s.name === name)?.delta));
    console.log(`  ${name.padEnd(15)} ${n(delta).padStart(12)} ${pct(delta, applied).padStart(6)}`);
  }
  if (failed.length > 0 || results.some((r) => r.lost > 0 || r.writable.length !== 1)) process.exitCode = 1;
}

await runMain(main);
