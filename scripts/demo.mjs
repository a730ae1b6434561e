// npm run demo: the pull channel end to end, with real processes on this machine.
// A controller and two agents, each agent owning a block in its own sandbox hosts file;
// `set-master` moves mysql-master.myservice.com and both files follow. Cleans up after itself.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const CONTROLLER = join(root, 'packages/controller/dist/cli.js');
const AGENT = join(root, 'packages/agent/dist/cli.js');
const HOST = 'mysql-master.myservice.com';
const dir = await mkdtemp(join(tmpdir(), 'pullover-demo-'));
const procs = [];
const say = (text) => console.log(`\x1b[1m${text}\x1b[0m`);

async function main() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await writeFile(join(dir, 'admin-tokens'), `${randomBytes(24).toString('hex')}\n`);
  await writeFile(join(dir, 'agent-tokens'), `${randomBytes(24).toString('hex')}\n`);
  await writeFile(join(dir, 'mysql-password'), 'not-used-by-the-pull-channel\n');
  await writeFile(
    join(dir, 'controller.yaml'),
    `listen: 127.0.0.1:${port}
state_dir: ${dir}/controller-state
auth: { agent_tokens_file: ${dir}/agent-tokens, admin_tokens_file: ${dir}/admin-tokens }
clusters:
  - name: myservice
    master_hostnames: [${HOST}]
    mysql: { port: 3306, user: pullover, password_file: ${dir}/mysql-password, replication_user: repl, replication_password_file: ${dir}/mysql-password }
    servers:
      - { name: mysql1, address: 127.0.10.1 }
      - { name: mysql2, address: 127.0.10.2, candidate: true }
      - { name: mysql3, address: 127.0.10.3, no_master: true }
`,
  );
  say(`controller on ${url}, state in ${dir}/controller-state`);
  start(CONTROLLER, ['run', '--config', join(dir, 'controller.yaml')]);
  await until(async () => (await fetch(`${url}/healthz`)).ok, 'the controller to listen');

  const agents = ['app1', 'app2'];
  const before = `127.0.0.1\tlocalhost\n127.0.10.1 ${HOST}\n::1\tlocalhost ip6-localhost\n`;
  say(`\neach app server's hosts file before pullover (the seed's hand-written line):`);
  console.log(before);
  for (const name of agents) {
    await mkdir(join(dir, name));
    // The seed's hand-written line: the agent comments it out so it cannot shadow the block.
    await writeFile(join(dir, name, 'hosts'), before);
    await writeFile(
      join(dir, name, 'agent.yaml'),
      `name: ${name}\ncontrollers: [${url}]\ntoken_file: ${dir}/agent-tokens\nhosts_file: ${dir}/${name}/hosts\nstate_dir: ${dir}/${name}/state\n`,
    );
    start(AGENT, ['run', '--config', join(dir, name, 'agent.yaml')]);
  }
  await until(
    async () =>
      (await Promise.all(agents.map((name) => readFile(join(dir, name, 'hosts'), 'utf8')))).every((f) =>
        f.includes('# END pullover'),
      ),
    'agents to apply',
  );
  say(`\n${dir}/app1/hosts, managed by pullover-agent:`);
  console.log(await readFile(join(dir, 'app1', 'hosts'), 'utf8'));

  const admin = ['--url', url, '--token-file', join(dir, 'admin-tokens')];
  say('$ pullover-controller set-master --cluster myservice mysql2');
  cli(CONTROLLER, ['set-master', '--cluster', 'myservice', 'mysql2', ...admin]);
  await until(
    async () => (await Promise.all(agents.map(resolveIn))).every((a) => a === '127.0.10.2'),
    'agents to follow',
  );
  // Publish time from the controller, apply time from each file's mtime: the pull, not the CLI's start-up.
  const status = JSON.parse(cli(CONTROLLER, ['status', '--json', ...admin], true));
  const published = Date.parse(status.issued_at);
  for (const name of agents) {
    const { mtimeMs } = await stat(join(dir, name, 'hosts'));
    say(
      `${name}: ${HOST} → 127.0.10.2, written ${Math.max(0, Math.round(mtimeMs - published))} ms after the controller published`,
    );
  }
  console.log();
  console.log(await readFile(join(dir, 'app2', 'hosts'), 'utf8'));
  await until(
    async () => JSON.parse(cli(CONTROLLER, ['status', '--json', ...admin], true)).agents_current === 2,
    'reports',
  );
  say('$ pullover-controller status');
  cli(CONTROLLER, ['status', ...admin]);
}

function start(cli, args) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
  procs.push(child);
  return child;
}
function cli(bin, args, quiet = false) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  if (!quiet) process.stdout.write(result.stdout + result.stderr);
  if (result.status !== 0) throw new Error(`${args[0]} exited ${result.status}`);
  return result.stdout;
}
async function resolveIn(name) {
  for (const line of (await readFile(join(dir, name, 'hosts'), 'utf8')).split('\n')) {
    const [address, ...names] = line.split('#')[0].trim().split(/\s+/);
    if (names.includes(HOST)) return address;
  }
}
function freePort() {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}
async function until(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function cleanup() {
  for (const child of procs) if (child.exitCode === null) child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}

// Interrupted (Ctrl-C, a closed pipe): still stop every process this demo started.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => void cleanup().then(() => process.exit(130)));
}
process.stdout.on('error', () => void cleanup().then(() => process.exit(1)));

try {
  await main();
} catch (err) {
  console.error(`demo failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
