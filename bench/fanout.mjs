// npm run bench:fanout -- --agents N [--workers W]
// N real agents (long-poll connection, hosts file write, report each) and one controller process;
// one publish; publish→applied and publish→reported percentiles and the controller's peak RSS.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    // Writes V8 CPU profiles of the controller and the workers there, to see where the time goes.
    profile: { type: 'string' },
  },
});
const N = Number(values.agents);
const W = Math.min(Number(values.workers), N);
const root = new URL('..', import.meta.url).pathname;
// tmpfs when there is one: the figure is the fan-out, not this VM's fsync latency.
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = await mkdtemp(join(base, 'pullover-bench-'));
const port = 20000 + Math.floor(Math.random() * 10000);
const url = `http://127.0.0.1:${port}`;
const adminToken = randomBytes(24).toString('hex');
const agentToken = randomBytes(24).toString('hex');
await writeFile(join(dir, 'admin-tokens'), `${adminToken}\n`);
await writeFile(join(dir, 'agent-tokens'), `${agentToken}\n`);
await writeFile(join(dir, 'pw'), 'x\n');
await writeFile(
  join(dir, 'controller.yaml'),
  `listen: 127.0.0.1:${port}
state_dir: ${join(dir, 'state')}
auth: { agent_tokens_file: ${join(dir, 'agent-tokens')}, admin_tokens_file: ${join(dir, 'admin-tokens')} }
clusters:
  - name: myservice
    master_hostnames: [mysql-master.myservice.com]
    mysql: { port: 1, user: u, password_file: ${join(dir, 'pw')}, replication_user: r, replication_password_file: ${join(dir, 'pw')} }
    servers:
      - { name: mysql1, address: 127.0.10.1 }
      - { name: mysql2, address: 127.0.10.2, candidate: true }
`,
);

const children = [];
const cleanup = async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
const controller = spawn(
  process.execPath,
  [
    ...profile,
    join(root, 'packages/controller/dist/cli.js'),
    'run',
    '--config',
    join(dir, 'controller.yaml'),
    '--log-level',
    'warn',
  ],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
children.push(controller);
const api = (path, init = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { 'authorization': `Bearer ${adminToken}`, 'content-type': 'application/json' },
  });
await until(
  async () => (await fetch(`${url}/healthz`).catch(() => ({ ok: false }))).ok,
  10_000,
  'controller up',
);

const t_start = Date.now();
const workers = [];
for (let w = 0; w < W; w++) {
  const from = Math.floor((w * N) / W);
  const to = Math.floor(((w + 1) * N) / W);
  const worker = fork(
    join(root, 'bench/fanout-worker.mjs'),
    [JSON.stringify({ dir, url, token: agentToken, from, to })],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: profile,
    },
  );
  children.push(worker);
  workers.push(worker);
}
const appliedBy = (version) =>
  Promise.all(
    workers.map(
      (w) =>
        new Promise((done) =>
          w.on('message', (m) => m.type === 'applied' && m.version === version && done(m)),
        ),
    ),
  );

await appliedBy(1);
await until(async () => (await metric('pullover_long_polls_parked')) >= N, 60_000, `${N} parked long-polls`);
const setup = Date.now() - t_start;
const rssParked = await rss(controller.pid, 'VmRSS');

for (const w of workers) w.send({ type: 'mark' });
await new Promise((r) => setTimeout(r, 100));
const controllerCpu0 = await cpuMs(controller.pid);
const published = appliedBy(2);
const t0 = Date.now();
const response = await api('/v1/clusters/myservice/set-master', {
  method: 'POST',
  body: JSON.stringify({ server: 'mysql2' }),
});
if (!response.ok) throw new Error(`set-master: HTTP ${response.status} ${await response.text()}`);
const t_answered = Date.now() - t0;
const workerResults = await published;
const applied = workerResults.flatMap((m) => m.times).map((t) => t - t0);
const workerCpu = workerResults.map((m) => Math.round(m.cpu_ms));
const controllerCpuApplied = (await cpuMs(controller.pid)) - controllerCpu0;
let status;
await until(
  async () => {
    status = await (await api('/v1/status')).json();
    return status.agents_current === N;
  },
  60_000,
  'every agent reported',
  // A status of 10,000 agents is a large answer: asking often would load the controller being measured.
  500,
);
const reported = status.agents.map((a) => Date.parse(a.last_report_at) - t0);
const peak = await rss(controller.pid, 'VmHWM');
const controllerCpu = (await cpuMs(controller.pid)) - controllerCpu0;

for (const w of workers) w.send({ type: 'stop' });
controller.kill('SIGTERM');
await Promise.all(
  [controller, ...workers].map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r()))),
);
await cleanup();

const fmt = (xs) => {
  xs.sort((a, b) => a - b);
  const q = (p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  return `p50 ${q(50)} ms  p99 ${q(99)} ms  max ${xs[xs.length - 1]} ms`;
};
console.log(`agents                 ${N} in ${W} worker processes (files in ${base}), setup ${setup} ms`);
console.log(`set-master answered    ${t_answered} ms after the request`);
console.log(`publish → applied      ${fmt(applied)}  (${applied.length} agents)`);
console.log(`publish → reported     ${fmt(reported)}  (${reported.length} agents)`);
console.log(
  `CPU after publish      workers ${workerCpu.join(' + ')} ms until all applied; controller ${controllerCpuApplied} ms until then, ${controllerCpu} ms until all reported`,
);
console.log(
  `controller RSS         ${(rssParked / 1024).toFixed(0)} MB with ${N} parked long-polls, peak ${(peak / 1024).toFixed(0)} MB`,
);

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
