// The .deb packages an operator moving off MHA installs with apt: built as `npm run package:deb`
// builds them, checked by Debian's own tools. A missing tool fails the test (CI installs dpkg-dev
// and lintian): a check skipped is a package nobody looked at.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a script of the repository, plain JavaScript without types
import { packageAgent, packageController } from '../scripts/package-deb.mjs';
import { eventually, freePort, ROOT } from './support/processes.js';

const exec = promisify(execFile);

async function tool(command: string, args: string[], pkg: string): Promise<string> {
  try {
    return (await exec(command, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} is not installed: apt-get install ${pkg}`);
    // lintian exits non-zero when it finds errors: the output is what the test reads.
    if (command === 'lintian' && typeof e.stdout === 'string') return e.stdout;
    throw error;
  }
}

/** `dpkg-deb --contents`, as "mode owner path" lines, sorted by path. */
async function contents(deb: string): Promise<string[]> {
  const out = await tool('dpkg-deb', ['--contents', deb], 'dpkg');
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [mode, owner, , , , ...rest] = line.split(/\s+/);
      return `${mode} ${owner} ${rest.join(' ')}`;
    })
    .sort((a, b) => (a.split(' ')[2]! < b.split(' ')[2]! ? -1 : 1));
}

describe('the Debian packages', () => {
  let dir: string;
  let agentDeb: string;
  let controllerDeb: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-deb-test-'));
    agentDeb = await packageAgent(join(dir, 'work-agent'), join(dir, 'out'));
    await exec('mkdir', [join(dir, 'work-controller')]);
    controllerDeb = packageController(join(dir, 'work-controller'), join(dir, 'out'));
  }, 240_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are named NAME_VERSION_all.deb', () => {
    expect(agentDeb).toBe(join(dir, 'out', 'pullover-agent_0.1.0_all.deb'));
    expect(controllerDeb).toBe(join(dir, 'out', 'pullover-controller_0.1.0_all.deb'));
  });

  it.each(['agent', 'controller'])('pullover-%s has no lintian error (each override is justified in its file)', async (which) => {
    const out = await tool('lintian', ['--tag-display-limit', '0', which === 'agent' ? agentDeb : controllerDeb], 'lintian');
    expect(out.split('\n').filter((line) => line.startsWith('E:'))).toEqual([]);
  });

  it('the agent: the one-file agent, its unit, a default config kept on upgrade, a private state dir', async () => {
    expect(await contents(agentDeb)).toEqual([
      'drwxr-xr-x root/root ./',
      'drwxr-xr-x root/root ./etc/',
      'drwxr-xr-x root/root ./etc/pullover/',
      '-rw-r--r-- root/root ./etc/pullover/agent.yaml',
      'drwxr-xr-x root/root ./lib/',
      'drwxr-xr-x root/root ./lib/systemd/',
      'drwxr-xr-x root/root ./lib/systemd/system/',
      '-rw-r--r-- root/root ./lib/systemd/system/pullover-agent.service',
      'drwxr-xr-x root/root ./usr/',
      'drwxr-xr-x root/root ./usr/bin/',
      '-rwxr-xr-x root/root ./usr/bin/pullover-agent',
      'drwxr-xr-x root/root ./usr/share/',
      'drwxr-xr-x root/root ./usr/share/doc/',
      'drwxr-xr-x root/root ./usr/share/doc/pullover-agent/',
      '-rw-r--r-- root/root ./usr/share/doc/pullover-agent/changelog.gz',
      '-rw-r--r-- root/root ./usr/share/doc/pullover-agent/copyright',
      'drwxr-xr-x root/root ./usr/share/lintian/',
      'drwxr-xr-x root/root ./usr/share/lintian/overrides/',
      '-rw-r--r-- root/root ./usr/share/lintian/overrides/pullover-agent',
      'drwxr-xr-x root/root ./var/',
      'drwxr-xr-x root/root ./var/lib/',
      'drwx------ root/root ./var/lib/pullover-agent/',
    ]);
    const control = join(dir, 'agent-control');
    await tool('dpkg-deb', ['--control', agentDeb, control], 'dpkg');
    expect(await readFile(join(control, 'conffiles'), 'utf8')).toBe('/etc/pullover/agent.yaml\n');
    expect(await readFile(join(control, 'control'), 'utf8')).toMatch(/^Depends: nodejs \(>= 20\.19\)$/m);
    // Not started on install (no `start`, no `enable`); purge removes the state.
    const postinst = (await readFile(join(control, 'postinst'), 'utf8')).split('\n').filter((l) => !l.startsWith('#'));
    expect(postinst.join('\n')).not.toMatch(/systemctl (start|enable|restart) /);
    expect(await readFile(join(control, 'postrm'), 'utf8')).toMatch(/"purge" \]; then\n\s+rm -rf \/var\/lib\/pullover-agent\n/);
    for (const script of ['postinst', 'prerm', 'postrm']) await exec('sh', ['-n', join(control, script)]);
  });

  it('the agent runs from the unpacked package, and its unit starts the packaged program', async () => {
    const root = join(dir, 'agent-root');
    await tool('dpkg-deb', ['-x', agentDeb, root], 'dpkg');
    const { stdout } = await exec(process.execPath, [join(root, 'usr/bin/pullover-agent'), '--help']);
    expect(stdout).toMatch(/^usage: pullover-agent COMMAND/);
    const unit = await readFile(join(root, 'lib/systemd/system/pullover-agent.service'), 'utf8');
    expect(unit).toContain('\nExecStart=/usr/bin/pullover-agent run --config /etc/pullover/agent.yaml\n');
    expect(await readFile(join(root, 'etc/pullover/agent.yaml'), 'utf8')).toBe(
      await readFile(join(ROOT, 'examples/agent.yaml'), 'utf8'),
    );
  });

  it('the controller: its production node_modules, the bin, the unit, the examples; a user made at install', async () => {
    const paths = (await contents(controllerDeb)).map((line) => line.split(' ').slice(2).join(' '));
    const lib = './usr/lib/pullover-controller/node_modules/';
    expect(paths).toEqual(expect.arrayContaining([
      './usr/bin/pullover-controller -> ../lib/pullover-controller/node_modules/@pullover/controller/bin/pullover-controller.js',
      `${lib}@pullover/controller/dist/bundle/pullover-controller.js`,
      `${lib}@pullover/controller/ui/index.html`,
      `${lib}@pullover/protocol/dist/index.js`,
      `${lib}fastify/package.json`,
      `${lib}mysql2/package.json`,
      './lib/systemd/system/pullover-controller.service',
      './usr/share/doc/pullover-controller/examples/controller.yaml',
      './usr/share/doc/pullover-controller/examples/alerts.yml',
    ]));
    for (const dev of ['vitest', 'typescript', 'esbuild', 'playwright-core', 'eslint']) {
      expect(paths.filter((p) => p.startsWith(`${lib}${dev}/`)), dev).toEqual([]);
    }
    const control = join(dir, 'controller-control');
    await tool('dpkg-deb', ['--control', controllerDeb, control], 'dpkg');
    expect(await readFile(join(control, 'control'), 'utf8')).toMatch(/^Depends: nodejs \(>= 20\.19\), adduser$/m);
    expect(await readFile(join(control, 'postinst'), 'utf8')).toContain('adduser --system --group --home /var/lib/pullover');
    for (const script of ['postinst', 'prerm', 'postrm']) await exec('sh', ['-n', join(control, script)]);
  });

  it('the controller runs from the unpacked package: it serves, and its admin CLI reads it', async () => {
    const root = join(dir, 'controller-root');
    await tool('dpkg-deb', ['-x', controllerDeb, root], 'dpkg');
    const bin = join(root, 'usr/bin/pullover-controller');
    const port = await freePort();
    const secrets = join(dir, 'secrets');
    await exec('mkdir', ['-p', secrets]);
    await writeFile(join(secrets, 'admin'), 'admin-token-0123456789abcdef\n');
    await writeFile(join(secrets, 'agents'), 'app1 agent-token-0123456789abcdef\n');
    await writeFile(join(secrets, 'pw'), 'x\n');
    const config = join(secrets, 'controller.yaml');
    await writeFile(config, `listen: 127.0.0.1:${port}
state_dir: ${join(dir, 'state')}
auth: { agent_tokens_file: ${join(secrets, 'agents')}, admin_tokens_file: ${join(secrets, 'admin')} }
clusters:
  - name: myservice
    master_hostnames: [mysql-master.myservice.com]
    mysql: { port: 1, user: u, password_file: ${join(secrets, 'pw')}, replication_user: r, replication_password_file: ${join(secrets, 'pw')} }
    servers: [{ name: mysql1, address: 127.0.99.1 }, { name: mysql2, address: 127.0.99.2 }]
`);
    const daemon = execFile(process.execPath, [bin, 'run', '--config', config]);
    try {
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/ui`).catch(() => undefined))?.ok, 15_000, 'the packaged controller');
      const { stdout } = await exec(process.execPath, [bin, 'status', '--config', config]);
      expect(stdout).toMatch(/^CLUSTER +MASTER +HOSTNAMES\nmyservice +mysql1 \(127\.0\.99\.1\)/);
    } finally {
      daemon.kill('SIGTERM');
    }
  }, 30_000);
});
