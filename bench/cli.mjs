// npm run bench:cli [-- --runs N]
// How long an operator waits for pullover-controller's admin commands: wall time of whole
// processes (start, one request to a live controller, print, exit), against a bare `node -e 0`.
// The controller is a real one, started once; its MySQL servers do not exist (nothing here needs them).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './stats.mjs';
import { writeControllerConfig } from './controller-config.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);
const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'packages/controller/package.json'), 'utf8'));
// The file npm links as the command, so the figure is what `pullover-controller …` costs.
const BIN = process.env.PULLOVER_CLI_BIN ?? join(root, 'packages/controller', pkg.bin['pullover-controller']);
/** The target: an admin command may cost this many bare node starts, and never more than LIMIT_MS. */
const FACTOR = 4;
const LIMIT_MS = 200;

const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pullover-bench-cli-'));
const port = 20000 + Math.floor(Math.random() * 10000);
const url = `http://127.0.0.1:${port}`;
await writeFile(join(dir, 'admin-tokens'), `${randomBytes(24).toString('hex')}\n`);
await writeFile(join(dir, 'agent-tokens'), `${randomBytes(24).toString('hex')}\n`);
await writeControllerConfig(dir, port);

const controller = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'controller.yaml'), '--log-level', 'warn'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const stop = async () => {
  if (controller.exitCode === null) controller.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void stop().then(() => process.exit(130)));

for (let i = 0; !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) {
  if (i > 100) throw new Error(`the controller did not listen on ${url}`);
  await new Promise((r) => setTimeout(r, 100));
}

const target = ['--url', url, '--token-file', join(dir, 'admin-tokens')];
let flip = 0;
const cases = [
  { name: 'node -e 0', argv: () => ['-e', '0'] },
  { name: '--help', argv: () => [BIN, '--help'] },
  { name: 'status', argv: () => [BIN, 'status', ...target] },
  // Alternates, so every run changes the master (a real publish), as an operator's would.
  { name: 'set-master', argv: () => [BIN, 'set-master', '--cluster', 'myservice', `mysql${(flip++ % 2) + 1}`, ...target] },
  { name: 'events', argv: () => [BIN, 'events', ...target] },
];

function time(argv) {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`${argv.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

const results = [];
try {
  for (const c of cases) {
    for (let i = 0; i < 2; i++) time(c.argv()); // the page cache, not the first read from disk
    const ms = Array.from({ length: RUNS }, () => time(c.argv())).sort((a, b) => a - b);
    results.push({ name: c.name, median: median(ms), p90: ms[Math.floor(0.9 * (ms.length - 1))], min: ms[0] });
  }
} finally {
  await stop();
}

const node = results[0].median;
const limit = Math.min(LIMIT_MS, FACTOR * node);
console.log(`${BIN}, ${RUNS} runs each; target ≤ ${limit.toFixed(0)} ms (${FACTOR}× node's ${node.toFixed(0)} ms, at most ${LIMIT_MS} ms)\n`);
console.log('command        median     p90     min   × node');
for (const r of results) {
  const cells = [r.median, r.p90, r.min].map((x) => `${x.toFixed(0)} ms`.padStart(7));
  console.log(`${r.name.padEnd(12)} ${cells.join(' ')}   ${(r.median / node).toFixed(1).padStart(5)}`);
}
const slow = results.slice(1).filter((r) => r.median > limit);
if (slow.length > 0) {
  console.log(`\nover the target: ${slow.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}
