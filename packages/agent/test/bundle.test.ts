import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs build script, without types
import { bundleAgent } from '../scripts/bundle.mjs';

describe('the single-file agent', () => {
  it('knows its version without a package.json beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pullover-bundle-'));
    try {
      const { outfile } = (await bundleAgent(join(dir, 'pullover-agent'))) as { outfile: string };
      const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
      const run = spawnSync(process.execPath, [outfile, '--version'], { encoding: 'utf8', cwd: dir });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(`pullover-agent ${version}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
