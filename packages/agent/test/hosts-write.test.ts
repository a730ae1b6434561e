import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WriterChild } from '../../protocol/test/mount-namespace.js';
import { HostsFileError } from '../src/errors.js';
import { readHostsFile, writeHostsFile } from '../src/hosts/write.js';

const NEW =
  '# BEGIN pullover\n200.200.200.2\tmysql-master.myservice.com\n# END pullover\n127.0.0.1 localhost\n';
const OLD = '127.0.0.1 localhost\r\n# café ✓\r\n200.200.200.1 mysql-master.myservice.com';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pullover-hosts-'));
  return () => rm(dir, { recursive: true, force: true });
});

async function caught(promise: Promise<unknown>): Promise<HostsFileError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HostsFileError);
  return err as HostsFileError;
}

describe('writeHostsFile', () => {
  it('replaces the file by rename, keeping bytes, mode and owner, leaving no temp file', async () => {
    const hosts = join(dir, 'hosts');
    await writeFile(hosts, OLD);
    await chown(hosts, 1234, 5678);
    await chmod(hosts, 0o640);
    const before = await stat(hosts);

    expect(await writeHostsFile(hosts, NEW)).toEqual({ method: 'rename' });

    const after = await stat(hosts);
    expect(await readFile(hosts, 'utf8')).toBe(NEW);
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o7777).toBe(0o640);
    expect([after.uid, after.gid]).toEqual([1234, 5678]);
    expect(await readdir(dir)).toEqual(['hosts']);
  });

  it('creates a missing file with mode 0644', async () => {
    const hosts = join(dir, 'hosts');
    expect(await writeHostsFile(hosts, '')).toEqual({ method: 'rename' });
    expect((await stat(hosts)).mode & 0o7777).toBe(0o644);
    expect(await readFile(hosts, 'utf8')).toBe('');
  });

  it('writes through a symlink to the file it points at', async () => {
    await writeFile(join(dir, 'real'), OLD);
    await symlink('real', join(dir, 'hosts'));
    await writeHostsFile(join(dir, 'hosts'), NEW);
    expect(await readFile(join(dir, 'real'), 'utf8')).toBe(NEW);
    expect((await stat(join(dir, 'hosts'))).isFile()).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['hosts', 'real']);
  });

  it('names the path and the errno when the directory does not exist', async () => {
    const hosts = join(dir, 'missing', 'hosts');
    const err = await caught(writeHostsFile(hosts, NEW));
    expect(err.code).toBe('HOSTS_WRITE_FAILED');
    expect(err.path).toBe(hosts);
    expect(err.errno).toBe('ENOENT');
    expect(err.message).toBe(
      `cannot write ${hosts}: ENOENT (no such file or directory); the file is unchanged`,
    );
  });

  it('removes its temp file when the rename fails', async () => {
    await mkdir(join(dir, 'hosts'));
    const err = await caught(writeHostsFile(join(dir, 'hosts'), NEW));
    expect(err.errno).toBe('EISDIR');
    expect(err.message).toMatch(/: EISDIR \(.+\); the file is unchanged$/);
    expect(await readdir(dir)).toEqual(['hosts']);
  });
});

describe('readHostsFile', () => {
  it('reads the bytes as they are', async () => {
    await writeFile(join(dir, 'hosts'), `\uFEFF${OLD}`);
    expect(await readHostsFile(join(dir, 'hosts'))).toBe(`\uFEFF${OLD}`);
  });

  it('fails on a missing file: a missing /etc/hosts is for the operator to fix', async () => {
    const err = await caught(readHostsFile(join(dir, 'hosts')));
    expect(err.code).toBe('HOSTS_READ_FAILED');
    expect(err.message).toBe(`cannot read ${join(dir, 'hosts')}: ENOENT (no such file or directory)`);
  });

  it('refuses a file that is not UTF-8 rather than corrupt it on the next write', async () => {
    await writeFile(join(dir, 'hosts'), Buffer.from('# caf\xe9\n127.0.0.1 localhost\n', 'latin1'));
    const err = await caught(readHostsFile(join(dir, 'hosts')));
    expect(err.code).toBe('HOSTS_READ_FAILED');
    expect(err.message).toContain('not valid UTF-8');
  });
});

// Docker bind-mounts /etc/hosts: rename cannot replace it, so the agent rewrites it in place.
describe('writeHostsFile on a bind-mounted file', () => {
  let child: WriterChild;

  beforeAll(async () => {
    child = await WriterChild.build(fileURLToPath(new URL('../src/hosts/write.ts', import.meta.url)), 'writeHostsFile');
  }, 30_000);
  afterAll(() => child.remove());

  const inNamespace = (setup: string) => child.run(setup, { src: join(dir, 'src'), dir: join(dir, 'etc') }, NEW);

  beforeEach(async () => {
    await writeFile(join(dir, 'src'), OLD);
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc', 'hosts'), 'the file under the mount\n');
  });

  it('falls back to an in-place rewrite when rename gives EBUSY', async () => {
    const { result, seen, files } = inNamespace('mount --bind "$SRC" "$HOSTS"');
    expect(result.method).toBe('in-place');
    expect(result.reason).toMatch(/EBUSY \(.*\).*bind-mounted/);
    expect(seen).toBe(NEW);
    expect(await readFile(join(dir, 'src'), 'utf8')).toBe(NEW);
    expect(files).toEqual(['hosts']);
    expect(await readFile(join(dir, 'etc', 'hosts'), 'utf8')).toBe('the file under the mount\n');
  });

  it('falls back to an in-place rewrite when the directory is read-only', async () => {
    const { result, seen } = inNamespace(
      'mount --bind "$DIR" "$DIR" && mount -o remount,bind,ro "$DIR" && mount --bind "$SRC" "$HOSTS"',
    );
    expect(result.method).toBe('in-place');
    expect(result.reason).toMatch(/cannot create a temporary file in .*: EROFS/);
    expect(seen).toBe(NEW);
    expect(await readFile(join(dir, 'src'), 'utf8')).toBe(NEW);
  });

  it('leaves the file unchanged and says so on a full disk', async () => {
    const { result, seen, files } = inNamespace(
      'mount -t tmpfs -o size=64k tmpfs "$DIR" && cp "$SRC" "$HOSTS" && '
      + '{ head -c 1000000 /dev/zero > "$DIR/fill" 2>/dev/null || true; }',
    );
    const hosts = join(dir, 'etc', 'hosts');
    expect(result).toEqual({
      code: 'HOSTS_WRITE_FAILED',
      message: `cannot write ${hosts}: ENOSPC (no space left on device); the file is unchanged`,
    });
    expect(seen).toBe(OLD);
    expect(files).toEqual(['fill', 'hosts']);
  });
});
