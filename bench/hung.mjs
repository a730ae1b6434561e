// npm run bench:hung -- [--runs N] [--fast] [--kinds sigstop,blackhole,short-pause]
// A master that hangs instead of dying (issue 11): a real MariaDB cluster (sandbox id 44, every
// server a host of its own on the netns layout, replicas at MariaDB's default slave_net_timeout=60
// with the 1 s heartbeat pullover sets), a controller, two agents and a writer through the hostname.
// N runs of each:
//   sigstop      SIGSTOP of the master's mariadbd;
//   blackhole    every packet to or from the master silently dropped (connects hang, nothing refused);
//   short-pause  SIGSTOP for 1.5 s then SIGCONT: must cause no failover.
// Measures freeze → every app host's hosts file names the new master (its bytes, polled every
// 20 ms), freeze → first write acknowledged by the new master, acknowledged writes lost, and whether
// the old master is read-only within 1 s of its thaw/heal; each step's share when the failover record
// has them. A run that has not switched 60 s after the freeze says so and the bench goes on.
// Default monitor settings (1 s interval, 1 s timeout, 3 failures); --fast: 500 ms interval and timeout.
import { readFile } from 'node:fs/promises';
import { addressIn, eventually, PacketDrop } from '@pullover/sandbox';
import { benchOptions, CLUSTER, HOSTNAME, requireMariadb, runMain, sandbox, withRig } from '../scripts/lib/failover-rig.mjs';
import { median, n, pct, worst } from './stats.mjs';

const KINDS = ['sigstop', 'blackhole', 'short-pause'];
const options = benchOptions({ fast: { type: 'boolean', default: false }, kinds: { type: 'string', default: KINDS.join(',') } });
const kinds = options.kinds.split(',');
if (kinds.some((k) => !KINDS.includes(k))) throw new Error(`--kinds takes some of ${KINDS.join(', ')}`);
const MONITOR = options.fast ? { interval: '500ms', timeout: '500ms' } : {};
const TARGET_MS = options.fast ? 3000 : 5000;
const SWITCH_TIMEOUT_MS = 60_000;
const SHORT_PAUSE_MS = 1500;
// After a short pause, long enough for any failover it set off to show in the history.
const SETTLE_MS = options.fast ? 6000 : 10_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The replicas were pointed by the sandbox's reset, with MariaDB's heartbeat (half of
// slave_net_timeout: 30 s); pullover gives them monitor.replica_heartbeat (1 s), as an operator does
// with `pullover-controller set-heartbeat` after installing it.
async function setReplicaHeartbeat(rig) {
  const result = await rig.api(`/v1/clusters/${CLUSTER}/replica-heartbeat`, {});
  const failed = result.replicas.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
  if (failed.length > 0) throw new Error(`set-heartbeat: ${failed.map((r) => r.detail).join('; ')}`);
  for (const s of rig.cluster.replicas) {
    await eventually(async () => (await s.slaveStatus())?.Slave_IO_Running === 'Yes', 10_000, `${s.name} replicating`);
  }
  await rig.ready();
  return result.heartbeat_s;
}

/** How each kind freezes the master and brings it back. */
function faults(drop) {
  return {
    'sigstop': { freeze: (s) => s.pause(), thaw: (s) => s.resume() },
    'blackhole': { freeze: (s) => drop.blackhole(s.address), thaw: () => drop.heal() },
    'short-pause': { freeze: (s) => s.pause(), thaw: (s) => s.resume() },
  };
}

/** Polls the hosts files' bytes and the writer until every app host names one new master and it took a write. */
async function followSwitch(rig, writer, old, freezeAt) {
  const switched = new Map();
  for (;;) {
    for (const agent of rig.agents) {
      const address = addressIn(await readFile(agent.hostsFile, 'utf8').catch(() => ''), HOSTNAME);
      if (address && address !== old.address && switched.get(agent.name)?.address !== address) {
        switched.set(agent.name, { address, at: Date.now() });
      }
    }
    const addresses = new Set([...switched.values()].map((h) => h.address));
    const newMaster = addresses.size === 1 && switched.size === rig.agents.length
      ? rig.cluster.servers.find((s) => s.address === [...addresses][0])
      : undefined;
    const tookWrite = (w) => w.at > freezeAt && w.serverId === newMaster.serverId;
    const firstWrite = newMaster && writer.acknowledged.find(tookWrite);
    if (firstWrite) {
      return { newMaster, allHosts: Math.max(...[...switched.values()].map((h) => h.at)), firstWrite: firstWrite.at };
    }
    if (Date.now() - freezeAt > SWITCH_TIMEOUT_MS) return undefined;
    await sleep(20);
  }
}

/** Asks the thawed old master for read_only every 50 ms for 1 s, each time on a fresh connection. */
async function readOnlyAfterThaw(server) {
  const thawAt = Date.now();
  const answers = [];
  while (Date.now() - thawAt < 1000) {
    const rows = await server.query('SELECT @@GLOBAL.read_only AS ro', [], { connectTimeoutMs: 300, timeoutMs: 300 }).catch(() => undefined);
    answers.push({ ms: Date.now() - thawAt, ro: rows ? Number(rows[0].ro) : undefined });
    await sleep(50);
  }
  const writable = answers.filter((a) => a.ro === 0);
  const readOnly = answers.find((a) => a.ro === 1 && a.ms > (writable.at(-1)?.ms ?? -1));
  const since = readOnly ? `read-only from +${n(readOnly.ms)} ms` : 'not read-only within 1 s';
  // The target is read-only within 1 s of the thaw; a writable answer before that is shown, not failed.
  if (writable.length > 0) return { ok: readOnly !== undefined, text: `WRITABLE until +${n(writable.at(-1).ms)} ms (${writable.length} answers), ${since}` };
  return { ok: readOnly !== undefined, text: readOnly ? `read-only at +${n(readOnly.ms)} ms` : 'NO answer within 1 s' };
}

/** Every step of the record, timed from the freeze. */
function stepsOf(record, freezeAt) {
  let previous = freezeAt;
  return (record?.steps ?? []).map((step) => {
    const at = Date.parse(step.at);
    const row = { name: step.name, sinceFreeze: at - freezeAt, delta: at - previous };
    previous = at;
    return row;
  });
}

async function hungRun(fault, cluster, rig, writer) {
  await setReplicaHeartbeat(rig);
  const old = cluster.master;
  // The freeze lands anywhere within a ping interval, as a real one would.
  await sleep(1000 + Math.random() * 1000);
  const freezeAt = Date.now();
  fault.freeze(old);
  let thawed = false;
  try {
    const outcome = await followSwitch(rig, writer, old, freezeAt);
    // What the controller made of it while the master was still frozen.
    const health = outcome ? undefined : (await rig.api('/v1/status')).clusters[0]?.health;
    fault.thaw(old);
    thawed = true;
    const readOnly = outcome ? await readOnlyAfterThaw(old) : undefined;
    await sleep(1000);
    await writer.stop();
    const [record] = (await rig.history()).slice(-1);
    const writable = await cluster.writableServers();
    const finalMaster = writable.length === 1 ? writable[0] : outcome?.newMaster;
    return {
      switched: outcome !== undefined,
      newMaster: outcome?.newMaster.name,
      allHosts: outcome && outcome.allHosts - freezeAt,
      firstWrite: outcome && outcome.firstWrite - freezeAt,
      readOnly,
      lost: finalMaster ? (await writer.missingOn(finalMaster)).length : writer.acknowledged.length,
      acknowledged: writer.acknowledged.length,
      writable: writable.map((s) => s.name),
      steps: stepsOf(record, freezeAt),
      note: outcome ? '' : `no switch within ${SWITCH_TIMEOUT_MS / 1000} s; failover ${record ? `${record.outcome}${record.error ? `: ${record.error}` : ''}` : 'never started'}; the controller said before the thaw: ${health?.sentence ?? '?'}`,
    };
  } finally {
    if (!thawed) fault.thaw(old);
  }
}

async function shortPauseRun(fault, cluster, rig) {
  await setReplicaHeartbeat(rig);
  const old = cluster.master;
  await sleep(1000 + Math.random() * 1000);
  fault.freeze(old);
  try {
    await sleep(SHORT_PAUSE_MS);
  } finally {
    fault.thaw(old);
  }
  await sleep(SETTLE_MS);
  const records = await rig.history();
  const writable = await cluster.writableServers();
  return {
    failovers: records.filter((r) => r.outcome !== 'cancelled').length,
    cancelled: records.filter((r) => r.outcome === 'cancelled').length,
    writable: writable.map((s) => s.name),
    health: (await rig.api('/v1/status')).clusters[0]?.health?.state,
  };
}

function printRun(kind, run, r) {
  if (kind === 'short-pause') {
    console.log(`${kind} ${run}: failovers ${r.failovers}${r.cancelled ? ` (+${r.cancelled} cancelled)` : ''}; health ${r.health}; writable ${r.writable.join(', ')}`);
    return;
  }
  const head = r.switched
    ? `every app host on ${r.newMaster} ${n(r.allHosts)} ms, first write there ${n(r.firstWrite)} ms; old master ${r.readOnly.text} after the thaw`
    : r.note;
  console.log(`${kind} ${run}: ${head}; ${n(r.acknowledged)} writes acknowledged, lost ${r.lost}; writable: ${r.writable.join(', ') || 'none'}`);
  if (r.steps.length > 0) console.log(`  steps (ms since the freeze): ${r.steps.map((s) => `${s.name} ${n(s.sinceFreeze)}`).join(' · ')}`);
}

function summarize(kind, results) {
  console.log(`\n${kind}: ${results.length} run(s)`);
  if (kind === 'short-pause') {
    console.log(`  false failovers (must be 0)               ${results.map((r) => r.failovers).join(', ')}`);
    return results.some((r) => r.failovers > 0 || r.writable.length !== 1);
  }
  const line = (label, xs, target) => {
    const missing = xs.filter((x) => x === undefined).length;
    const worstText = missing > 0 ? `no switch within ${SWITCH_TIMEOUT_MS / 1000} s (${missing} run(s))` : `${n(worst(xs))} ms`;
    const verdict = target === undefined ? '' : `   target ≤ ${n(target)} ms: ${median(xs) <= target && missing === 0 ? 'met' : 'NOT met'}`;
    console.log(`  ${label.padEnd(40)} median ${n(median(xs)).padStart(6)} ms, worst ${worstText}${verdict}`);
  };
  line('freeze → every app host switched', results.map((r) => r.allHosts), TARGET_MS);
  line('freeze → first write on the new master', results.map((r) => r.firstWrite));
  console.log(`  ${'acknowledged writes lost'.padEnd(40)} ${results.map((r) => r.lost).join(', ')}`);
  console.log(`  ${'old master after its thaw'.padEnd(40)} ${results.map((r) => r.readOnly?.text ?? '(no switch)').join('; ')}`);
  const withSteps = results.filter((r) => r.switched && r.steps.length > 0);
  if (withSteps.length > 0) {
    const whole = median(withSteps.map((r) => r.steps.at(-1).sinceFreeze));
    console.log(`  ${'step'.padEnd(15)} ${'median Δ ms'.padStart(12)} ${'share'.padStart(6)}   (of freeze → ${withSteps[0].steps.at(-1).name}, ${n(whole)} ms)`);
    for (const name of withSteps[0].steps.map((s) => s.name)) {
      const delta = median(withSteps.map((r) => r.steps.find((s) => s.name === name)?.delta));
      console.log(`  ${name.padEnd(15)} ${n(delta).padStart(12)} ${pct(delta, whole).padStart(6)}`);
    }
  }
  return results.some((r) => r.lost > 0 || r.readOnly?.ok === false || r.writable.length !== 1);
}

async function main() {
  requireMariadb();
  const monitor = options.fast ? '500 ms interval, 500 ms timeout, 3 failures' : 'default monitor: 1 s interval, 1 s timeout, 3 failures';
  console.log(`hung-master bench: ${options.runs} run(s) of ${kinds.join(', ')} under writes; ${monitor}; slave_net_timeout=60, replica heartbeat set by the controller`);
  const cluster = await sandbox(44, { network: 'netns', slaveNetTimeout: 60 });
  const byKind = faults(new PacketDrop(cluster.network));
  let violated = false;
  for (const kind of kinds) {
    const results = [];
    console.log('');
    for (let run = 1; run <= options.runs; run++) {
      try {
        const measure = kind === 'short-pause' ? shortPauseRun : hungRun;
        const use = (rig, writer) => measure(byKind[kind], cluster, rig, writer);
        const r = await withRig(cluster, use, { monitor: MONITOR });
        results.push(r);
        printRun(kind, run, r);
      } catch (err) {
        violated = true;
        console.log(`${kind} ${run} failed: ${err.message}`);
      }
    }
    if (results.length > 0 && summarize(kind, results)) violated = true;
  }
  if (violated) process.exitCode = 1;
}

await runMain(main);
