import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateError } from '../src/errors.js';
import { FileStore } from '../src/state/file-store.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Another process holding the lock through the built package (npm run build first). */
async function holder(dir: string) {
  const script = `import { FileStore } from '@pullover/controller';
    await new FileStore(${JSON.stringify(dir)}).lock(); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  return child;
}

describe('the state dir lock', () => {
  const dirs: string[] = [];
  const temp = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pullover-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('refuses a second controller process, naming the holder\'s PID; free again once it is gone', async () => {
    const dir = await temp();
    const other = await holder(dir);
    try {
      const refused = new FileStore(dir).lock();
      await expect(refused).rejects.toThrow(StateError);
      await expect(refused).rejects.toThrow(`is in use by another pullover-controller (pid ${other.pid},`);
    } finally {
      other.kill('SIGKILL');
      await once(other, 'exit');
    }
    // SIGKILLed: no cleanup ran, yet the kernel released the lock.
    const lock = await new FileStore(dir).lock();
    await lock.release();
  });

  it('is held until released, also against the same process', async () => {
    const dir = await temp();
    const lock = await new FileStore(dir).lock();
    await expect(new FileStore(dir).lock()).rejects.toThrow(`pid ${process.pid},`);
    await lock.release();
    await (await new FileStore(dir).lock()).release();
  });
});
