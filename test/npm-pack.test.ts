// The install story of the README: pack the three packages, install the tarballs into a fresh
// prefix, run the bins. No registry holds @pullover/*, and none may be asked for it: whoever
// registered the scope there would get their code run as root (dependency confusion).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/processes.js';

const run = promisify(execFile);
const QUIET = ['--prefer-offline', '--no-audit', '--no-fund'];
/** What the README tells the operator to write before `npm install`: @pullover/protocol comes from its tarball. */
const PREFIX_PACKAGE = { private: true, overrides: { '@pullover/protocol': '$@pullover/protocol' } };

describe('npm pack and install from the tarballs', () => {
  let dir: string;
  let tarballs: string[];
  let prefix: string;
  let install: { stdout: string; stderr: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-pack-'));
    const packs = ['protocol', 'controller', 'agent'].flatMap((p) => ['-w', `packages/${p}`]);
    await run('npm', ['pack', ...packs, '--pack-destination', dir], { cwd: ROOT });
    tarballs = (await readdir(dir)).filter((name) => name.endsWith('.tgz')).sort();
    prefix = join(dir, 'opt-pullover');
    await mkdir(prefix);
    await writeFile(join(prefix, 'package.json'), JSON.stringify(PREFIX_PACKAGE));
    const files = tarballs.map((name) => join(dir, name));
    install = await run('npm', ['install', '--omit=dev', ...QUIET, '--loglevel', 'http', ...files], { cwd: prefix });
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes one tarball per package, the agent one with its single-file bundle', async () => {
    expect(tarballs).toEqual([
      'pullover-agent-0.1.0.tgz',
      'pullover-controller-0.1.0.tgz',
      'pullover-protocol-0.1.0.tgz',
    ]);
    const { stdout } = await run('tar', ['-tzf', join(dir, 'pullover-agent-0.1.0.tgz')]);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining(['package/dist/cli.js', 'package/dist/bundle/pullover-agent.cjs']),
    );
  });

  it('never asks a registry for @pullover/*', () => {
    // Every packument lookup is logged as `http fetch GET …`, served from the cache or not.
    const requests = `${install.stdout}\n${install.stderr}`.split('\n').filter((l) => l.includes('http fetch'));
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((l) => /:\/\/\S*@pullover/i.test(l))).toEqual([]);
  });

  it.each(['pullover-controller', 'pullover-agent'])('%s --help runs from the installed bin', async (bin) => {
    const { stdout } = await run(join(prefix, 'node_modules', '.bin', bin), ['--help']);
    expect(stdout).toMatch(new RegExp(`^usage: ${bin} COMMAND`));
    expect(stdout).toContain('examples:');
  });
});
