import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Status } from '@pullover/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../test/support/tls.js';
import { clusterDoc, configDoc, LOOPBACK_CLUSTER, tempDir, writeSecrets } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'packages/controller/dist/cli.js');

beforeAll(() => {
  // The CLI is tested as shipped: the built bin, spawned.
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'packages/protocol', 'packages/controller'], {
    cwd: ROOT,
  });
}, 120_000);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 100) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Spawns `run` and resolves once /healthz answers. */
async function run(file: string, url: string) {
  const child = spawn(process.execPath, [CLI, 'run', '--config', file]);
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`controller did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('pullover-controller CLI', () => {
  it('exits 2 naming the file and line of a YAML syntax error', async () => {
    const dir = await tempDir();
    const file = join(dir, 'controller.yaml');
    await writeFile(file, 'listen: 127.0.0.1:7420\nclusters:\n  - name: [unclosed\n');
    const result = await cli(['run', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${file}:\\d+:\\d+: YAML syntax: `));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 naming the key path of a bad value', async () => {
    const dir = await tempDir();
    const file = join(dir, 'controller.yaml');
    const cluster = clusterDoc();
    cluster.servers[1] = { name: 'mysql2', address: '200.200.200' };
    await writeFile(file, JSON.stringify(configDoc(dir, [cluster])));
    const result = await cli(['run', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `${file}: clusters[0].servers[1].address: not an IPv4 or IPv6 address literal\n`,
    );
  });

  it('exits 2 on bad usage', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const missing = await cli(['set-master', '--cluster', 'myservice', 'mysql2']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/say which controller: --config FILE, or --url URL and --token-file FILE/);
    expect((await cli(['status', '--url', 'http://127.0.0.1:1', '--token-file', '/x', '--bogus'])).code).toBe(
      2,
    );
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: pullover-controller/);
  });

  it('prints one command\'s help, and names the option whose value is wrong', async () => {
    const help = await cli(['pause', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout.split('\n')[0]).toBe('usage: pullover-controller pause --cluster CLUSTER --for DURATION [--reason TEXT] CONTROLLER');
    const bare = await cli(['pause', '--cluster', 'c', '--for', '30', '--url', 'http://127.0.0.1:1', '--token-file', '/x']);
    expect(bare).toMatchObject({
      code: 2,
      stderr: 'pullover-controller: --for takes a duration like 30m, 2h or 1d, not "30" (a bare number has no unit) (see pullover-controller pause --help)\n',
    });
  });

  it('exits 1 when the controller is unreachable', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    const result = await cli([
      'status',
      '--url',
      `http://127.0.0.1:${await freePort()}`,
      '--token-file',
      join(dir, 'admin-tokens'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^pullover-controller: cannot reach the controller at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });

  it('runs, moves the master with set-master, shows it in status, and exits 0 on SIGTERM', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    const port = await freePort();
    const file = join(dir, 'controller.yaml');
    await writeFile(file, JSON.stringify({ ...configDoc(dir, [LOOPBACK_CLUSTER]), listen: `127.0.0.1:${port}` }));
    const controller = await run(file, `http://127.0.0.1:${port}`);

    const set = await cli([
      'set-master',
      '--config',
      file,
      '--cluster',
      'myservice',
      'mysql2',
      '--reason',
      'test',
    ]);
    expect(set).toMatchObject({ code: 0, stdout: 'myservice: master mysql1 → mysql2, version 2\n' });
    const again = await cli(['set-master', '--config', file, '--cluster', 'myservice', 'mysql2']);
    expect(again.stdout).toBe('myservice: mysql2 is already the master, version 2 unchanged\n');
    const unknown = await cli(['set-master', '--config', file, '--cluster', 'myservice', 'mysql9']);
    expect(unknown).toMatchObject({
      code: 1,
      stderr:
        'pullover-controller: cluster myservice has no server mysql9 (servers: mysql1, mysql2, mysql3)\n',
    });

    const json = await cli(['status', '--json', '--config', file]);
    expect(json.code).toBe(0);
    const status = Status.parse(JSON.parse(json.stdout));
    expect(status.version).toBe(2);
    expect(status.clusters[0]?.master).toBe('mysql2');

    const table = await cli([
      'status',
      '--url',
      `http://127.0.0.1:${port}`,
      '--token-file',
      join(dir, 'admin-tokens'),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^CLUSTER\s+MASTER\s+HOSTNAMES\nmyservice\s+mysql2 \(127\.0\.99\.2\)\s+mysql-master\.myservice\.com\n/,
    );
    expect(table.stdout).toContain('\n  automatic failover: armed\n');
    expect(table.stdout).toMatch(/\n {2}SERVER +ROLE +REACHABLE +READ_ONLY +REPLICATES FROM +IO +SQL /);
    expect(table.stdout).toContain('0/0 agents on version 2');

    const events = await cli(['events', '--config', file, '--cluster', 'myservice']);
    expect(events.code).toBe(0);
    expect(events.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z set-master myservice: mysql-master\.myservice\.com now → mysql2 .*\(reason: test\)$/m,
    );
    const following = spawn(process.execPath, [CLI, 'events', '--follow', '--json', '--config', file]);
    children.push(following);
    let followed = '';
    following.stdout.on('data', (d) => (followed += d));
    const stopped = new Promise<number | null>((r) => following.on('close', r));
    await until(() => followed.includes('mysql2'));
    await cli(['set-master', '--config', file, '--cluster', 'myservice', 'mysql1']);
    await until(() => followed.includes('now → mysql1'));
    following.kill('SIGINT');
    expect(await stopped).toBe(0);
    expect(followed.trim().split('\n').map((line) => JSON.parse(line).cluster)).toContain('myservice');

    controller.child.kill('SIGTERM');
    expect(await controller.exited).toBe(0);
    const messages = controller
      .output()
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line).msg);
    expect(messages).toContain(
      'set-master myservice: mysql-master.myservice.com now → mysql2 (127.0.99.2), version 2 (reason: test)',
    );
  });

  it('reaches a TLS controller from its config even when the certificate does not name 127.0.0.1', async () => {
    const dir = await tempDir();
    await writeSecrets(dir);
    selfSignedCert(dir, 'tls', 'ctl1.internal', 'DNS:ctl1.internal');
    const port = await freePort();
    const file = join(dir, 'controller.yaml');
    const tls = { cert_file: 'tls.crt', key_file: 'tls.key' };
    await writeFile(file, JSON.stringify({ ...configDoc(dir, [LOOPBACK_CLUSTER]), listen: `127.0.0.1:${port}`, tls }));
    const child = spawn(process.execPath, [CLI, 'run', '--config', file]);
    children.push(child);
    let status: Result | undefined;
    for (let i = 0; i < 100; i++) {
      status = await cli(['status', '--json', '--config', file]);
      if (status.code === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status?.code).toBe(0);
    // With --url the name is checked as usual: 127.0.0.1 is not in the certificate.
    const byUrl = await cli([
      'status',
      '--url',
      `https://127.0.0.1:${port}`,
      '--token-file',
      join(dir, 'admin-tokens'),
      '--ca-file',
      join(dir, 'tls.crt'),
    ]);
    expect(byUrl.code).toBe(1);
    expect(byUrl.stderr).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
  });
});
