// npm run bench:fanout -- --agents N [--controllers K] [--workers W] [--warm] [--restart] [--disk]
//   [--node-options "…"] [--profile DIR]
// N real agents (long-poll connection, hosts file write, report each) and one controller process,
// its cluster a real MariaDB sandbox (id 52: mysql1 the live master, as in a deployment, so the
// monitor pings once a second); one publish (set-master mysql2, which does not touch MySQL);
// publish→applied and publish→reported percentiles, CPU and the controller's RSS.
// --controllers K (K > 1): then the same with K controllers on a three-member etcd, each agent given
// every URL (it polls the one its name ranks first), the publish through the leader; each
// controller's CPU and RSS, and their CPU against the single controller's on the same publish.
// --warm: a first publish (set-master mysql3) unmeasured, so that the measured one runs on compiled
// code; each controller's CPU is split between its main thread and V8's helper threads either way.
// --restart: then the controller is SIGTERMed and started again under the N connected agents.
// Every child, mariadbd and etcd member is stopped however the bench ends: a throw, Ctrl-C,
// SIGTERM, or its IPC pipe gone (a SIGKILL of the bench: the watchdogs).
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ETCD, freePort, startCluster, startEtcd } from '@pullover/sandbox';
import { requireMariadb } from '../scripts/lib/failover-rig.mjs';
import { agentToken } from './fanout-token.mjs';
import { n, quantiles } from './stats.mjs';
import { etcdControllerConfig, writeControllerConfig } from './controller-config.mjs';

const { values } = parseArgs({
  options: {
    'agents': { type: 'string', default: '1000' },
    'workers': { type: 'string', default: '2' },
    'controllers': { type: 'string', default: '1' },
    'restart': { type: 'boolean', default: false },
    // One publish first, unmeasured: the measured one then runs on code the JIT has compiled, as in
    // a controller whose agents have been polling for a while (their holds end every few seconds).
    'warm': { type: 'boolean', default: false },
    // Files on disk (the bench's temp dir under os.tmpdir()), so fsync's cost is in the figures.
    'disk': { type: 'boolean', default: false },
    // Node options for each controller process, e.g. "--max-semi-space-size=4", to try V8 settings.
    'node-options': { type: 'string', default: '' },
    // Writes V8 CPU profiles of the controller and the workers there, to see where the time goes.
    'profile': { type: 'string' },
  },
});
const N = Number(values.agents);
const W = Math.min(Number(values.workers), N);
const K = Number(values.controllers);
const usage = (problem) => {
  console.error(`bench:fanout: ${problem}`);
  process.exit(2);
};
if (!Number.isInteger(K) || K < 1 || K > 5) usage('--controllers takes 1 to 5');
if (K > 1 && values.restart) usage('--restart restarts the one controller: not with --controllers');
requireMariadb();
if (K > 1 && !existsSync(ETCD)) {
  console.error(`--controllers ${K} needs etcd (${ETCD}); install it with: sudo apt-get install -y etcd-server`);
  process.exit(1);
}
const idleMs = K > 1 ? 5000 : 2000;
/** A child told to stop is SIGKILLed after this long (the bench says so). */
const STOP_MS = 10_000;
// Its own sandbox ids: no test or demo starts etcd 81; MariaDB 52 is the benches' (one at a time).
const ETCD_ID = 81;
const MARIADB_ID = 52;
const root = new URL('..', import.meta.url).pathname;
// tmpfs by default: the figure is the fan-out, not this VM's fsync latency.
const base = !values.disk && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = await mkdtemp(join(base, 'pullover-bench-'));
// Its 10,000 agents' files are in memory on tmpfs: removed also after a SIGKILL of the bench.
watchdog([], dir);

/** Every child process: killed at exit, whatever the reason. */
const children = new Set();
let exiting = false;
function killAll() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    console.error(`bench: ${signal}, stopping every child`);
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

const adminToken = randomBytes(24).toString('hex');
// One token per agent, as production has them: derived from a seed, so each worker computes its
// agents' own without 10,000 tokens on its command line.
const tokenSeed = randomBytes(24).toString('hex');
// And one for the bench's own poll of each controller, which acknowledges nothing: when it serves the new version.
const probeToken = agentToken(tokenSeed, 'bench-probe');
const tokenLines = `${Array.from({ length: N }, (_, i) => `app${i} ${agentToken(tokenSeed, `app${i}`)}`).join('\n')}\nbench-probe ${probeToken}\n`;

const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
const nodeOptions = values['node-options'].split(/\s+/).filter(Boolean);
/** On the monotonic clock of the CPU profiles: where to look in them. */
const marks = [];
const mark = (what) => marks.push(`${what} ${process.hrtime.bigint() / 1000n}`);

function startController(config) {
  const controller = spawn(
    process.execPath,
    [
      ...profile,
      ...nodeOptions,
      // The controller stops when the bench's end of its stdin closes, even after a SIGKILL of the bench.
      '--import',
      'data:text/javascript,process.stdin.on("end",()=>process.kill(process.pid,"SIGTERM")).resume().unref()',
      join(root, 'packages/controller/dist/cli.js'),
      'run',
      '--config',
      config,
      '--log-level',
      'warn',
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  children.add(controller);
  controller.once('exit', () => children.delete(controller));
  return controller;
}

/** A request to controller `c` ({url}) with the admin token. */
const api = (c, path, init = {}) =>
  fetch(`${c.url}${path}`, {
    ...init,
    headers: { 'authorization': `Bearer ${adminToken}`, 'content-type': 'application/json' },
  });
const healthy = async (c) => (await fetch(`${c.url}/healthz`).catch(() => ({ ok: false }))).ok;

/**
 * One publish to N agents on K controllers of the cluster `mariadb` (K > 1: on `etcd`), measured
 * from start to the last acknowledgement. Returns the figures and what is still running (stop() ends it).
 */
async function measure(K, mariadb, etcd) {
  const runDir = await mkdtemp(join(dir, `k${K}-`));
  await writeFile(join(runDir, 'admin-tokens'), `${adminToken}\n`);
  await writeFile(join(runDir, 'agent-tokens'), tokenLines);
  const prefix = `/bench-${Date.now()}/`;
  const ctl = [];
  for (let i = 0; i < K; i++) {
    const port = await freePort();
    const config = K === 1
      ? (await writeControllerConfig(runDir, port, { mariadb }), join(runDir, 'controller.yaml'))
      : await etcdControllerConfig(runDir, port, i, { endpoints: etcd.endpoints, prefix, mariadb });
    ctl.push({ name: K === 1 ? 'controller' : `c${i + 1}`, url: `http://127.0.0.1:${port}`, config });
  }
  for (const c of ctl) c.proc = startController(c.config);
  await until(async () => (await Promise.all(ctl.map(healthy))).every(Boolean), 10_000, 'controllers up');
  const leader = K === 1 ? ctl[0] : await until(() => leaderOf(ctl), 20_000, 'a leader');
  for (const c of ctl) c.role = K === 1 ? 'alone' : c === leader ? 'leader' : 'follower';

  const t_start = Date.now();
  const workers = [];
  let stopping = false;
  const urls = ctl.map((c) => c.url);
  for (let w = 0; w < W; w++) {
    const from = Math.floor((w * N) / W);
    const to = Math.floor(((w + 1) * N) / W);
    const worker = fork(join(root, 'bench/fanout-worker.mjs'), [JSON.stringify({ dir: runDir, urls, tokenSeed, from, to })], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: profile,
    });
    children.add(worker);
    worker.once('exit', (code, signal) => {
      children.delete(worker);
      if (!exiting && !stopping && code !== 0) fail(new Error(`bench: worker ${worker.pid} exited (${signal ?? code})`));
    });
    workers.push(worker);
  }
  const fromWorkers = (type, pick = () => true) =>
    Promise.all(workers.map((w) => new Promise((done) => w.on('message', (m) => m.type === type && pick(m) && done(m)))));
  const agentLog = async () => {
    const answers = fromWorkers('log');
    for (const w of workers) w.send({ type: 'log' });
    return mergeLogs(await answers);
  };
  // /metrics lists every agent: at 10,000 agents, asking often would load the controllers being measured.
  const parked = async () => {
    for (const c of ctl) c.parked = await metric(c, 'pullover_long_polls_parked');
    return ctl.reduce((sum, c) => sum + c.parked, 0) >= N;
  };

  await fromWorkers('applied', (m) => m.version === 1);
  await until(parked, 120_000, `${N} parked long-polls`, 500);
  const setup = Date.now() - t_start;
  const setupLog = await agentLog();
  // The measured publish makes this version current; a warm-up one makes the one before it.
  const version = values.warm ? 3 : 2;
  if (values.warm) {
    const warmed = fromWorkers('applied', (m) => m.version === 2);
    const answer = await api(leader, '/v1/clusters/myservice/set-master', { method: 'POST', body: JSON.stringify({ server: 'mysql3' }) });
    if (!answer.ok) throw new Error(`set-master (warm-up): HTTP ${answer.status} ${await answer.text()}`);
    await warmed;
    await until(parked, 60_000, `${N} parked long-polls after the warm-up publish`, 500);
  }

  // What each controller spends with nothing to do but hold the polls: its monitor's round once a
  // second (a ping of the live master, a look at each server; a follower's too: it keeps its view
  // warm), timers, on etcd its lease and the fleet share. Printed, and taken off, to put the
  // publish's CPU in proportion. Comparing controllers, over 5 s: garbage collection comes in bursts.
  const pids = ctl.map((c) => c.proc.pid);
  const idle0 = await cpuOf(pids);
  await new Promise((r) => setTimeout(r, idleMs));
  (await cpuOf(pids)).forEach((ms, i) => (ctl[i].idlePerS = ((ms - idle0[i]) * 1000) / idleMs));
  for (const c of ctl) {
    // The peak during the publish alone: 5 resets VmHWM to the current RSS.
    await writeFile(`/proc/${c.proc.pid}/clear_refs`, '5');
    // Measured after the idle seconds: reports shed during the start-up come back in them.
    c.rssParked = await rss(c.proc.pid, 'VmRSS');
    c.eventsBefore = (await (await api(c, '/v1/events?wait=0')).json()).last;
  }
  for (const w of workers) w.send({ type: 'mark' });
  await new Promise((r) => setTimeout(r, 100));
  const etcdPids = etcd?.members.map((m) => m.pid) ?? [];
  const cpu0 = await cpuOf(pids);
  const mainCpu0 = await cpuOf(pids.map((pid) => `${pid}/task/${pid}`));
  const etcdCpu0 = await cpuOf(etcdPids);
  const published = fromWorkers('applied', (m) => m.version === version);
  const served = ctl.map((c) => servedAfter(c, version - 1));
  // Asked all along the publish: it must stay answered while 10,000 agents are.
  const health = probeHealth(leader);
  mark('publish');
  const t0 = Date.now();
  const response = await api(leader, '/v1/clusters/myservice/set-master', { method: 'POST', body: JSON.stringify({ server: 'mysql2' }) });
  if (!response.ok) throw new Error(`set-master: HTTP ${response.status} ${await response.text()}`);
  const t_answered = Date.now() - t0;
  const workerResults = await published;
  mark('applied');
  (await Promise.all(served)).forEach((at, i) => (ctl[i].served = at - t0));
  const applied = workerResults.flatMap((m) => m.times).map((t) => t - t0);
  const via = workerResults.flatMap((m) => m.via);
  const workerCpu = workerResults.map((m) => Math.round(m.cpu_ms));
  (await cpuOf(pids)).forEach((ms, i) => (ctl[i].cpuApplied = ms - cpu0[i]));
  for (const [i, c] of ctl.entries()) c.applied = applied.filter((_, a) => via[a] === i);
  // Each controller's own line says when the last agent's acknowledgement reached it (on etcd, the
  // others' agents through the fleet share): no need to ask for a status of 10,000 agents (a large
  // answer) while they are being measured.
  await Promise.all(ctl.map(async (c) => (c.rollout = c.applied.length > 0 ? await rolloutLine(c, c.eventsBefore, version) : 'no agent')));
  const t_reported = Date.now() - t0;
  mark('reported');
  (await cpuOf(pids)).forEach((ms, i) => (ctl[i].cpu = ms - cpu0[i]));
  // The rest is V8's helper threads: compiling hot code (again after a deoptimization) and collecting garbage.
  (await cpuOf(pids.map((pid) => `${pid}/task/${pid}`))).forEach((ms, i) => (ctl[i].mainCpu = ms - mainCpu0[i]));
  const etcdCpu = (await cpuOf(etcdPids)).reduce((sum, ms, i) => sum + ms - etcdCpu0[i], 0);
  for (const c of ctl) {
    c.peak = await rss(c.proc.pid, 'VmHWM');
    // Net: less what the controller spends idle over as long.
    c.net = c.cpu - (c.idlePerS * t_reported) / 1000;
  }
  const healthMs = await health.stop();
  const publishLog = await agentLog();
  // An agent reports to the controller it polls: its newest report is on one of them.
  const lastReport = new Map();
  for (const c of ctl) {
    for (const a of (await (await api(c, '/v1/status')).json()).agents) {
      lastReport.set(a.name, Math.max(lastReport.get(a.name) ?? 0, Date.parse(a.last_report_at)));
    }
  }
  const reported = [...lastReport.values()].map((at) => at - t0);

  const stop = async () => {
    stopping = true;
    for (const w of workers) w.send({ type: 'stop' });
    for (const c of ctl) c.proc.kill('SIGTERM');
    const mine = [...workers.map((w) => ['worker', w]), ...ctl.map((c) => [c.name, c.proc])];
    await Promise.all(mine.filter(([, p]) => p.exitCode === null && p.signalCode === null).map(async ([name, p]) => {
      const exited = new Promise((r) => p.once('exit', r));
      const late = new Promise((r) => setTimeout(r, STOP_MS, 'late').unref());
      if ((await Promise.race([exited, late])) !== 'late') return;
      // Seen once: a controller's close() waiting on connections that never sent a request.
      console.error(`bench: ${name} ${p.pid} still running ${STOP_MS} ms after being told to stop: SIGKILL`);
      p.kill('SIGKILL');
      await exited;
    }));
  };
  return {
    ctl, leader, setup, setupLog, t_answered, healthMs, applied, workerCpu, t_reported, reported, publishLog, etcdCpu,
    workers, agentLog, parked, stop,
  };
}

/** The lines the bench always printed for one controller, and their like for several. */
function printRun(r) {
  const one = r.ctl.length === 1;
  const spread = one ? '' : `; polling ${r.ctl.map((c) => `${c.name} ${n(c.applied.length)}`).join(', ')}`;
  console.log(`agents                 ${n(N)} in ${W} worker processes (files in ${base}), setup ${n(r.setup)} ms${spread}`);
  console.log(`agents' log at setup   ${r.setupLog}`);
  const through = one ? '' : ` (through the leader ${r.leader.name})`;
  console.log(`set-master answered    ${r.t_answered} ms after the request${through}; /healthz during the publish: ${quantiles(r.healthMs)} (${r.healthMs.length} asks)`);
  console.log(`publish → applied      ${quantiles(r.applied)}  (${n(r.applied.length)} agents)`);
  if (!one) {
    // A follower learns of the new version through its etcd watch: its agents' figures include that hop.
    for (const c of r.ctl) {
      const first = Math.min(...c.applied);
      const line = `${quantiles(c.applied)}, first ${n(first)} ms  (${n(c.applied.length)} agents); served it after ${n(c.served)} ms`;
      console.log(`  on ${`${c.name} (${c.role})`.padEnd(18)}${line}`);
    }
  }
  console.log(`publish → reported     ${quantiles(r.reported)}  (${n(r.reported.length)} agents)`);
  for (const c of r.ctl) console.log(`${one ? 'controller said' : `${c.name} said`.padEnd(15)}        ${c.rollout}`);
  console.log(`agents' log at publish ${r.publishLog}`);
  if (one) {
    const [c] = r.ctl;
    console.log(
      `CPU after publish      workers ${r.workerCpu.join(' + ')} ms until all applied; controller ${c.cpuApplied} ms until then, ${c.cpu} ms until all reported (${helpers(c)}): ${(c.cpu / N).toFixed(3)} ms per agent, ${(c.net / N).toFixed(3)} net of its ${n(c.idlePerS)} ms/s when idle`,
    );
    console.log(
      `controller RSS         ${(c.rssParked / 1024).toFixed(0)} MB with ${n(N)} parked long-polls, peak ${(c.peak / 1024).toFixed(0)} MB during the publish (+${((c.peak - c.rssParked) / 1024).toFixed(0)} MB)`,
    );
    return;
  }
  console.log(`CPU after publish      workers ${r.workerCpu.join(' + ')} ms until all applied; etcd's three members ${n(r.etcdCpu)} ms until all reported`);
  for (const c of r.ctl) {
    console.log(
      `  ${`${c.name} (${c.role})`.padEnd(21)}${n(c.cpuApplied)} ms until all applied, ${n(c.cpu)} ms until all reported (${helpers(c)}), ${n(c.net)} net of its ${n(c.idlePerS)} ms/s idle; RSS ${(c.rssParked / 1024).toFixed(0)} MB parked, peak ${(c.peak / 1024).toFixed(0)} MB`,
    );
  }
}

/** How much of a controller's CPU its main thread spent; the rest was V8's helper threads. */
function helpers(c) {
  return `${n(c.mainCpu)} on its main thread, ${n(c.cpu - c.mainCpu)} on V8's helpers`;
}

/** The several controllers' CPU on the publish against the one controller's: together, and the busiest. */
function printComparison(alone, several) {
  const [single] = alone.ctl;
  const ratio = (pick, target) => {
    const total = several.ctl.reduce((sum, c) => sum + pick(c), 0);
    const busiest = several.ctl.reduce((a, b) => (pick(b) > pick(a) ? b : a));
    const of = (x) => `${(x / pick(single)).toFixed(2)}×`;
    return `${n(total)} ms against ${n(pick(single))} ms alone: ${of(total)}${target ? ' (target ≤ 1.3×)' : ''}; busiest ${busiest.name} (${busiest.role}) ${n(pick(busiest))} ms, ${of(pick(busiest))}${target ? ' (target ≤ 0.45×)' : ''}`;
  };
  console.log(`\n${several.ctl.length} controllers against one, CPU on the same publish until all reported:`);
  console.log(`  net of idle           ${ratio((c) => c.net, true)}`);
  console.log(`  as measured           ${ratio((c) => c.cpu, false)}`);
  console.log(`  until all applied     ${ratio((c) => c.cpuApplied, false)}`);
}

let run;
const [mariadb, etcd] = await Promise.all([
  startCluster({ id: MARIADB_ID }),
  K > 1 ? startEtcd({ id: ETCD_ID }) : undefined,
]);
watchdog(mariadb.servers.map((s) => s.pid), mariadb.dir);
if (etcd) watchdog(etcd.members.map((m) => m.pid), etcd.dir);
const where = `MariaDB sandbox id ${MARIADB_ID} (${mariadb.servers.map((s) => `${s.name} ${s.address}:${s.port}`).join(', ')}; mysql1 the master)`;
if (K === 1) {
  console.log(`one controller; ${where}\n`);
  run = await measure(1, mariadb);
  printRun(run);
} else {
  console.log(`one controller alone (its state dir), then ${K} on etcd (three members, etcd id ${ETCD_ID}); ${n(N)} agents each time; ${where}\n`);
  const alone = await measure(1, mariadb);
  printRun(alone);
  await alone.stop();
  console.log(`\n${K} controllers on etcd`);
  run = await measure(K, mariadb, etcd);
  printRun(run);
  printComparison(alone, run);
}

if (values.restart) {
  // SIGTERM answers every parked poll 503; the agents back off until the new process listens.
  const [c] = run.ctl;
  const t_restart = Date.now();
  mark('restart');
  const gone = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await gone;
  const t_down = Date.now() - t_restart;
  c.proc = startController(c.config);
  await until(() => healthy(c), 20_000, 'controller up again', 20);
  const t_up = Date.now() - t_restart;
  await until(run.parked, 60_000, `${N} parked long-polls after the restart`, 500);
  const t_parked = Date.now() - t_restart;
  mark('parked again');
  console.log(
    `controller restart     exited ${n(t_down)} ms after SIGTERM, listening after ${n(t_up)} ms, all ${n(N)} parked again after ${n(t_parked)} ms (±250 ms)`,
  );
  console.log(`agents' log at restart ${await run.agentLog()}`);
}
if (values.profile) console.log(`profile marks (µs)     ${marks.join(', ')}`);

exiting = true;
await run.stop();
// The sandbox unrefs its servers and etcd members: without a handle of ours, Node would exit while
// awaiting their end (the exit hooks would still kill them, but not remove their dirs).
const keepAlive = setInterval(() => {}, 1000);
await Promise.all([etcd?.destroy(), mariadb.destroy()]);
clearInterval(keepAlive);

function fail(error) {
  console.error(error.message);
  process.exit(1);
}
/**
 * When our end of its stdin closes, also after a SIGKILL of the bench, a small process SIGKILLs
 * `pids` (etcd's members, the mariadbd: the sandbox detaches them, so they are not our children),
 * each only while its command line names `dir`, and removes `dir` once our own children, which stop
 * when their pipes to us close, are done writing there. The other exits are killAll's and the
 * sandbox's own exit hook's.
 */
function watchdog(pids, dir) {
  const code = `const fs = require('node:fs');
process.stdin.on('end', () => {
  for (const pid of ${JSON.stringify(pids)}) {
    try { if (fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes(${JSON.stringify(dir)})) process.kill(pid, 'SIGKILL'); } catch {}
  }
  setTimeout(() => fs.rmSync(${JSON.stringify(dir)}, { recursive: true, force: true, maxRetries: 5 }), 2000);
}).resume();`;
  const dog = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  dog.unref();
  dog.stdin.unref();
}
/**
 * When controller `c` (epoch ms) first serves a version newer than `after`, asked every 10 ms until it
 * does: a parked poll would tell when its turn came in the fan-out, not when the version arrived.
 */
async function servedAfter(c, after) {
  for (;;) {
    const response = await fetch(`${c.url}/v1/mapping?after=${after}&wait=0`, { headers: { authorization: `Bearer ${probeToken}` } });
    const at = Date.now();
    await response.body?.cancel();
    if (response.status === 200) return at;
    if (response.status !== 204) throw new Error(`bench: ${c.name} answered the probe's poll ${response.status}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
/** Which of the controllers says it leads, once exactly one does. */
async function leaderOf(ctl) {
  const roles = await Promise.all(ctl.map(async (c) => (await (await api(c, '/v1/leader')).json()).self.role));
  const leaders = ctl.filter((_, i) => roles[i] === 'leader');
  return leaders.length === 1 ? leaders[0] : undefined;
}
/** The worker's counts, summed: "3 warn, 0 error; 2 × controller … no answer within 10000 ms". */
function mergeLogs(answers) {
  const byMessage = new Map();
  let warn = 0;
  let error = 0;
  for (const answer of answers) {
    warn += answer.warn;
    error += answer.error;
    for (const [message, count] of answer.messages) byMessage.set(message, (byMessage.get(message) ?? 0) + count);
  }
  const top = [...byMessage].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return `${n(warn)} warn, ${n(error)} error${top.map(([m, c]) => `; ${n(c)} × ${m}`).join('')}`;
}
/** Asks controller `c`'s /healthz every 50 ms until stop(), which resolves with how long each answer took. */
function probeHealth(c) {
  const times = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      await fetch(`${c.url}/healthz`);
      times.push(Math.round(performance.now() - started));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { stop: () => ((stopped = true), loop.then(() => times)) };
}
/** Controller `c`'s sentence about `version` reaching its agents, from its event log. */
async function rolloutLine(c, after, version) {
  const pattern = new RegExp(`^[\\d,]+ of [\\d,]+ agents? applied version ${version} `);
  for (;;) {
    const answer = await (await api(c, `/v1/events?after=${after}&wait=30`)).json();
    const line = answer.events.find((e) => pattern.test(e.message));
    if (line) return line.message;
    after = answer.next;
  }
}
async function metric(c, name) {
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}
/** CPU ms of each process, or of one thread given as `PID/task/TID`. */
function cpuOf(pids) {
  return Promise.all(pids.map(cpuMs));
}
async function cpuMs(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}
async function rss(pid, field) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)[1]);
}
async function until(check, ms, what, every = 50) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await check().catch(() => false);
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
