// The single-file agent as an app server gets it: one file and node, no node_modules anywhere.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHandle, expectedHosts, Fleet, HOSTNAME, ORIGINAL_HOSTS, SERVERS } from './support/fleet.js';
import { eventually, ROOT, runCli } from './support/processes.js';

const BUNDLE_SCRIPT = join(ROOT, 'packages/agent/scripts/bundle.mjs');

// CommonJS resolution would also search NODE_PATH; an app server has none.
delete process.env.NODE_PATH;

function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules'))) found.push(join(at, 'node_modules'));
    if (dirname(at) === at) return found;
  }
}

describe('the single-file agent bundle, run with plain node', () => {
  let fleet: Fleet;
  let agent: AgentHandle;
  let bundle: string;

  beforeAll(async () => {
    fleet = await Fleet.create();
    // Extensionless, as installed in /usr/bin: Node then loads it as CommonJS.
    bundle = join(fleet.dir, 'bin', 'pullover-agent');
    await mkdir(dirname(bundle));
    const built = spawnSync(process.execPath, [BUNDLE_SCRIPT, bundle], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    expect(nodeModulesAbove(dirname(bundle))).toEqual([]);
    await fleet.startController();
    agent = await fleet.addAgent('app1');
  });
  afterAll(async () => {
    await fleet?.destroy();
  });

  it('is one executable file that starts by its shebang and prints its usage', async () => {
    expect((await stat(bundle)).mode & 0o111).not.toBe(0);
    // Only node on the PATH, as on an app server.
    const help = spawnSync(bundle, ['--help'], { encoding: 'utf8', env: { PATH: dirname(process.execPath) } });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: pullover-agent COMMAND/);
    for (const command of ['run', 'sync', 'status', 'uninstall']) expect(help.stdout).toContain(`pullover-agent ${command}`);
    expect((await runCli(bundle, ['uninstall', '--help'])).code).toBe(0);
  });

  it('sync writes the block with the master address and comments out the shadowing line', async () => {
    const { code, stdout, stderr } = await runCli(bundle, ['sync', '--config', agent.configFile]);
    expect(code, stderr).toBe(0);
    // The result alone on stdout; the log lines went to stderr.
    expect(stdout).toMatch(new RegExp(`^${agent.hostsFile} holds version \\d+\\n$`));
    expect(stderr).toMatch(/"msg":"applied version \d+/);
    expect(await readFile(agent.hostsFile, 'utf8')).toBe(expectedHosts(SERVERS[0].address));
  });

  it('status reports what the file holds', async () => {
    const { code, stdout } = await runCli(bundle, ['status', '--config', agent.configFile]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${agent.hostsFile}: block matches`);
    expect(stdout).toContain(`${HOSTNAME} → ${SERVERS[0].address}  (myservice master mysql1)`);
  });

  it('run follows a set-master published through the controller CLI, and stops on SIGTERM', async () => {
    const proc = await fleet.startAgent(agent, bundle);
    await fleet.setMaster('mysql2');
    await eventually(
      async () => (await readFile(agent.hostsFile, 'utf8')) === expectedHosts(SERVERS[1].address),
      10_000,
      `the bundled agent to point ${HOSTNAME} at ${SERVERS[1].address}`,
    );
    await proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('uninstall gives back the original bytes, and a second one has nothing to do', async () => {
    const first = await runCli(bundle, ['uninstall', '--config', agent.configFile]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      `removed the pullover block (1 entry) from ${agent.hostsFile}, restored 1 commented-out line; deleted `,
    );
    expect(first.stdout.split('\n')).toHaveLength(2);
    expect(first.stderr).toContain('stop it first: systemctl disable --now pullover-agent');
    expect(await readFile(agent.hostsFile, 'utf8')).toBe(ORIGINAL_HOSTS);

    const second = await runCli(bundle, ['uninstall', '--config', agent.configFile]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`no pullover block in ${agent.hostsFile}, nothing to restore`);
    expect(await readFile(agent.hostsFile, 'utf8')).toBe(ORIGINAL_HOSTS);
  });

  it('uninstall refuses a file it cannot read (exit 1, file unchanged) and a missing config (exit 2)', async () => {
    const other = await fleet.addAgent('app2');
    const latin1 = Buffer.from('127.0.0.1 localhost # caf\xe9\n', 'latin1');
    await writeFile(other.hostsFile, latin1);
    const unreadable = await runCli(bundle, ['uninstall', '--config', other.configFile]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toContain(`cannot read ${other.hostsFile}: it is not valid UTF-8`);
    expect(await readFile(other.hostsFile)).toEqual(latin1);

    const missing = await runCli(bundle, ['uninstall', '--config', join(fleet.dir, 'nowhere.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nowhere.yaml: cannot read the config: ENOENT');
  });
});
