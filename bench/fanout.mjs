// npm run bench:fanout -- --agents N [--workers W] [--restart] [--disk] [--profile DIR]
// N real agents (long-poll connection, hosts file write, report each) and one controller process;
// one publish; publish→applied and publish→reported percentiles, CPU and the controller's RSS.
// --restart: then the controller is SIGTERMed and started again under the N connected agents.
// Every child is stopped however the bench ends: a throw, Ctrl-C, SIGTERM, or its IPC pipe gone.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { agentToken } from './fanout-token.mjs';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { n, quantiles } from './stats.mjs';
import { writeControllerConfig } from './controller-config.mjs';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    restart: { type: 'boolean', default: false },
    // Files on disk (the bench's temp dir under os.tmpdir()), so fsync's cost is in the figures.
    disk: { type: 'boolean', default: false },
    // Writes V8 CPU profiles of the controller and the workers there, to see where the time goes.
    profile: { type: 'string' },
  },
});
const N = Number(values.agents);
const W = Math.min(Number(values.workers), N);
const root = new URL('..', import.meta.url).pathname;
// tmpfs by default: the figure is the fan-out, not this VM's fsync latency.
const base = !values.disk && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = await mkdtemp(join(base, 'pullover-bench-'));

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

const port = 20000 + Math.floor(Math.random() * 10000);
const url = `http://127.0.0.1:${port}`;
const adminToken = randomBytes(24).toString('hex');
// One token per agent, as production has them: derived from a seed, so each worker computes its
// agents' own without 10,000 tokens on its command line.
const tokenSeed = randomBytes(24).toString('hex');
await writeFile(join(dir, 'admin-tokens'), `${adminToken}\n`);
const tokenLines = Array.from({ length: N }, (_, i) => `app${i} ${agentToken(tokenSeed, `app${i}`)}\n`);
await writeFile(join(dir, 'agent-tokens'), tokenLines.join(''));
await writeControllerConfig(dir, port);

const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
/** On the monotonic clock of the CPU profiles: where to look in them. */
const marks = [];
const mark = (what) => marks.push(`${what} ${process.hrtime.bigint() / 1000n}`);

function startController() {
  const controller = spawn(
    process.execPath,
    [
      ...profile,
      // The controller stops when the bench's end of its stdin closes, even after a SIGKILL of the bench.
      '--import',
      'data:text/javascript,process.stdin.on("end",()=>process.kill(process.pid,"SIGTERM")).resume().unref()',
      join(root, 'packages/controller/dist/cli.js'),
      'run',
      '--config',
      join(dir, 'controller.yaml'),
      '--log-level',
      'warn',
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  children.add(controller);
  controller.once('exit', () => children.delete(controller));
  return controller;
}

const api = (path, init = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { 'authorization': `Bearer ${adminToken}`, 'content-type': 'application/json' },
  });
const healthy = async () => (await fetch(`${url}/healthz`).catch(() => ({ ok: false }))).ok;
// /metrics lists every agent: at 10,000 agents, asking often would load the controller being measured.
const parked = async () => (await metric('pullover_long_polls_parked')) >= N;

let controller = startController();
await until(healthy, 10_000, 'controller up');

const t_start = Date.now();
const workers = [];
for (let w = 0; w < W; w++) {
  const from = Math.floor((w * N) / W);
  const to = Math.floor(((w + 1) * N) / W);
  const worker = fork(
    join(root, 'bench/fanout-worker.mjs'),
    [JSON.stringify({ dir, url, tokenSeed, from, to })],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: profile },
  );
  children.add(worker);
  worker.once('exit', (code, signal) => {
    children.delete(worker);
    if (!exiting && code !== 0) fail(new Error(`bench: worker ${worker.pid} exited (${signal ?? code})`));
  });
  workers.push(worker);
}
const fromWorkers = (type, pick = () => true) =>
  Promise.all(
    workers.map((w) => new Promise((done) => w.on('message', (m) => m.type === type && pick(m) && done(m)))),
  );
const agentLog = async () => {
  const answers = fromWorkers('log');
  for (const w of workers) w.send({ type: 'log' });
  return mergeLogs(await answers);
};

await fromWorkers('applied', (m) => m.version === 1);
await until(parked, 120_000, `${N} parked long-polls`, 500);
const setup = Date.now() - t_start;
const setupLog = await agentLog();

// What the controller spends with nothing to do but hold the polls: its monitor pinging the
// bench's absent MySQL, mostly. Printed to put the publish's CPU in proportion.
const idleCpu0 = await cpuMs(controller.pid);
await new Promise((r) => setTimeout(r, 2000));
const idleCpuPerS = ((await cpuMs(controller.pid)) - idleCpu0) / 2;
// The peak during the publish alone: 5 resets VmHWM to the current RSS.
await writeFile(`/proc/${controller.pid}/clear_refs`, '5');
// Measured after the idle seconds: reports shed during the start-up come back in them.
const rssParked = await rss(controller.pid, 'VmRSS');
for (const w of workers) w.send({ type: 'mark' });
await new Promise((r) => setTimeout(r, 100));
const controllerCpu0 = await cpuMs(controller.pid);
const eventsBefore = (await (await api('/v1/events?wait=0')).json()).last;
const published = fromWorkers('applied', (m) => m.version === 2);
// Asked all along the publish: it must stay answered while 10,000 agents are.
const health = probeHealth();
mark('publish');
const t0 = Date.now();
const response = await api('/v1/clusters/myservice/set-master', {
  method: 'POST',
  body: JSON.stringify({ server: 'mysql2' }),
});
if (!response.ok) throw new Error(`set-master: HTTP ${response.status} ${await response.text()}`);
const t_answered = Date.now() - t0;
const workerResults = await published;
mark('applied');
const applied = workerResults.flatMap((m) => m.times).map((t) => t - t0);
const workerCpu = workerResults.map((m) => Math.round(m.cpu_ms));
const controllerCpuApplied = (await cpuMs(controller.pid)) - controllerCpu0;
// The controller's own line says when the last agent's acknowledgement came: no need to ask it
// for a status of 10,000 agents (a large answer) while it is being measured.
const rollout = await rolloutLine(eventsBefore, 2);
const t_reported = Date.now() - t0;
mark('reported');
const controllerCpu = (await cpuMs(controller.pid)) - controllerCpu0;
const peak = await rss(controller.pid, 'VmHWM');
const healthMs = await health.stop();
const publishLog = await agentLog();
const status = await (await api('/v1/status')).json();
const reported = status.agents.map((a) => Date.parse(a.last_report_at) - t0);

console.log(`agents                 ${n(N)} in ${W} worker processes (files in ${base}), setup ${n(setup)} ms`);
console.log(`agents' log at setup   ${setupLog}`);
console.log(`set-master answered    ${t_answered} ms after the request; /healthz during the publish: ${quantiles(healthMs)} (${healthMs.length} asks)`);
console.log(`publish → applied      ${quantiles(applied)}  (${n(applied.length)} agents)`);
console.log(`publish → reported     ${quantiles(reported)}  (${n(reported.length)} agents)`);
console.log(`controller said        ${rollout}`);
console.log(`agents' log at publish ${publishLog}`);
// Net: less what the controller spends idle over as long (its monitor pinging the absent MySQL).
const net = controllerCpu - (idleCpuPerS * t_reported) / 1000;
console.log(
  `CPU after publish      workers ${workerCpu.join(' + ')} ms until all applied; controller ${controllerCpuApplied} ms until then, ${controllerCpu} ms until all reported: ${(controllerCpu / N).toFixed(3)} ms per agent, ${(net / N).toFixed(3)} net of its ${n(idleCpuPerS)} ms/s when idle`,
);
console.log(
  `controller RSS         ${(rssParked / 1024).toFixed(0)} MB with ${n(N)} parked long-polls, peak ${(peak / 1024).toFixed(0)} MB during the publish (+${((peak - rssParked) / 1024).toFixed(0)} MB)`,
);

if (values.restart) {
  // SIGTERM answers every parked poll 503; the agents back off until the new process listens.
  const t_restart = Date.now();
  mark('restart');
  const old = controller;
  const gone = new Promise((r) => old.once('exit', r));
  old.kill('SIGTERM');
  await gone;
  const t_down = Date.now() - t_restart;
  controller = startController();
  await until(healthy, 20_000, 'controller up again', 20);
  const t_up = Date.now() - t_restart;
  await until(parked, 60_000, `${N} parked long-polls after the restart`, 500);
  const t_parked = Date.now() - t_restart;
  mark('parked again');
  console.log(
    `controller restart     exited ${n(t_down)} ms after SIGTERM, listening after ${n(t_up)} ms, all ${n(N)} parked again after ${n(t_parked)} ms (±250 ms)`,
  );
  console.log(`agents' log at restart ${await agentLog()}`);
}
if (values.profile) console.log(`profile marks (µs)     ${marks.join(', ')}`);

exiting = true;
for (const w of workers) w.send({ type: 'stop' });
controller.kill('SIGTERM');
await Promise.all([...children].map((c) => new Promise((r) => c.once('exit', r))));

function fail(error) {
  console.error(error.message);
  process.exit(1);
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
/** Asks /healthz every 50 ms until stop(), which resolves with how long each answer took. */
function probeHealth() {
  const times = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      await fetch(`${url}/healthz`);
      times.push(Math.round(performance.now() - started));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { stop: () => ((stopped = true), loop.then(() => times)) };
}
/** The controller's sentence about `version` reaching the fleet, from its event log. */
async function rolloutLine(after, version) {
  const pattern = new RegExp(`^[\\d,]+ of [\\d,]+ agents? applied version ${version} `);
  for (;;) {
    const answer = await (await api(`/v1/events?after=${after}&wait=30`)).json();
    const line = answer.events.find((e) => pattern.test(e.message));
    if (line) return line.message;
    after = answer.next;
  }
}
async function metric(name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
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
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
