// A developer's first minutes: clone, `npm ci`, `npm run build`, `npx pullover-controller`. npm
// links a workspace's bin at install time only if its file exists then; a bin under dist/ did not,
// and npx asked the public registry instead (a 404 today, someone else's package tomorrow).
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/processes.js';

const run = promisify(execFile);
/** No registry at all: whatever npx would fetch fails instead of running someone's code. */
const NO_REGISTRY = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_yes: 'true' };

describe('a fresh clone', () => {
  let dir: string;
  let clone: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pullover-clone-'));
    clone = join(dir, 'pullover');
    await run('git', ['clone', '--quiet', ROOT, clone]);
    await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: clone });
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(['pullover-controller', 'pullover-agent'])('links %s at npm ci, and says to build it before', async (bin) => {
    await access(join(clone, 'node_modules', '.bin', bin));
    const before = await run('npx', [bin, '--help'], { cwd: clone, env: NO_REGISTRY }).catch((e: unknown) => e);
    expect(before).toMatchObject({ code: 2, stderr: `${bin} is not built: run \`npm run build\` in the repository first\n` });
  });

  it('after npm run build, npx runs pullover-controller and pullover-agent without a registry', async () => {
    await run('npm', ['run', 'build', '--silent'], { cwd: clone });
    for (const bin of ['pullover-controller', 'pullover-agent']) {
      const { stdout } = await run('npx', [bin, '--help'], { cwd: clone, env: NO_REGISTRY });
      expect(stdout).toMatch(new RegExp(`^usage: ${bin} COMMAND`));
    }
  }, 120_000);
});
