import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AtomicWriteError, removeStrayTemps, writeFileAtomic } from '../src/index.js';
import { WriterChild } from './mount-namespace.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pullover-atomic-'));
  return () => rm(dir, { recursive: true, force: true });
});

async function caught(promise: Promise<unknown>): Promise<AtomicWriteError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AtomicWriteError);
  return error as AtomicWriteError;
}

// The agent blocks, the controller does not: both must follow the same policy.
describe.each([
  ['blocking', true],
  ['on the thread pool', false],
])('writeFileAtomic, %s', (_how, blocking) => {
  it('replaces the file by rename, keeping its mode and owner, leaving no temp file', async () => {
    const file = join(dir, 'state.json');
    await writeFile(file, 'old');
    await chown(file, 1234, 5678);
    await chmod(file, 0o640);
    const before = await stat(file);

    expect(await writeFileAtomic(file, 'new', { mode: 0o600, blocking })).toEqual({ method: 'rename' });

    const after = await stat(file);
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o7777).toBe(0o640);
    expect([after.uid, after.gid]).toEqual([1234, 5678]);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('gives a new file the mode asked for', async () => {
    await writeFileAtomic(join(dir, 'state.json'), '{}', { mode: 0o600, blocking });
    expect((await stat(join(dir, 'state.json'))).mode & 0o7777).toBe(0o600);
  });

  it('replaces the file a symlink points at, not the link', async () => {
    await writeFile(join(dir, 'real'), 'old');
    await symlink('real', join(dir, 'link'));
    await writeFileAtomic(join(dir, 'link'), 'new', { mode: 0o644, blocking });
    expect(await readFile(join(dir, 'real'), 'utf8')).toBe('new');
    expect((await readdir(dir)).sort()).toEqual(['link', 'real']);
  });

  it('names the path, the errno and what was left when the directory does not exist', async () => {
    const file = join(dir, 'missing', 'state.json');
    const error = await caught(writeFileAtomic(file, 'new', { mode: 0o600, blocking }));
    expect(error).toMatchObject({ path: file, errno: 'ENOENT', outcome: 'unchanged' });
    expect(error.message).toBe(`cannot write ${file}: ENOENT (no such file or directory); the file is unchanged`);
  });

  it('removes its temp file when the rename fails', async () => {
    await mkdir(join(dir, 'state.json'));
    const error = await caught(writeFileAtomic(join(dir, 'state.json'), 'new', { mode: 0o600, blocking }));
    expect(error).toMatchObject({ errno: 'EISDIR', outcome: 'unchanged' });
    expect(await readdir(dir)).toEqual(['state.json']);
  });
});

describe('removeStrayTemps', () => {
  it('deletes what a killed writer left next to the file, and nothing else', async () => {
    await writeFile(join(dir, 'hosts'), '');
    await writeFile(join(dir, '.hosts.pullover-123-abc'), 'half');
    await writeFile(join(dir, '.other.pullover-123-abc'), 'not ours to judge');
    expect(removeStrayTemps(join(dir, 'hosts'))).toEqual([join(dir, '.hosts.pullover-123-abc')]);
    expect((await readdir(dir)).sort()).toEqual(['.other.pullover-123-abc', 'hosts']);
  });
});

// A state file is never rewritten in place: without `inPlace`, a file rename cannot replace stays as it was.
describe('writeFileAtomic on a bind-mounted file, without inPlace', () => {
  let child: WriterChild;

  beforeAll(async () => {
    const entry = fileURLToPath(new URL('../src/atomic-write.ts', import.meta.url));
    child = await WriterChild.build(entry, 'writeFileAtomic', [{ mode: 0o600 }]);
  }, 30_000);
  afterAll(() => child.remove());

  it('fails with EBUSY and leaves the file unchanged', async () => {
    await writeFile(join(dir, 'src'), 'old');
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc', 'hosts'), 'under the mount');
    const { result, seen, files } = child.run(
      'mount --bind "$SRC" "$HOSTS"',
      { src: join(dir, 'src'), dir: join(dir, 'etc') },
      'new',
    );
    const hosts = join(dir, 'etc', 'hosts');
    expect(result.message).toBe(`cannot write ${hosts}: EBUSY (resource busy or locked); the file is unchanged`);
    expect(seen).toBe('old');
    expect(files).toEqual(['hosts']);
  });
});
