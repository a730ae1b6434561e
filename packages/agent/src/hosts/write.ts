// Replacing the hosts file so that a crash at any instant leaves the old file or the new one, never a
// truncated one: temp file in the same directory, fsync, rename, fsync of the directory.
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { type FileHandle, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { getSystemErrorMap, TextDecoder } from 'node:util';
import { HostsFileError } from '../errors.js';

export interface WriteResult {
  method: 'rename' | 'in-place';
  /** Why the atomic rename could not be used; the caller logs it. */
  reason?: string;
}

// rename(2) over a bind-mounted file (Docker's /etc/hosts) fails with EBUSY, across mounts with EXDEV.
const RENAME_IMPOSSIBLE = new Set(['EBUSY', 'EXDEV']);
// A read-only or foreign-owned directory around a writable file (again containers).
const TEMP_IMPOSSIBLE = new Set(['EACCES', 'EPERM', 'EROFS']);

const ignore = () => undefined;

function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `ENOSPC (no space left on device)`: the errno for searching, the words for reading. */
export function describeError(err: unknown): string {
  const { code, errno } = (err ?? {}) as NodeJS.ErrnoException;
  if (typeof code === 'string') {
    const words = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
    return words === undefined ? code : `${code} (${words})`;
  }
  return err instanceof Error ? err.message : String(err);
}

function writeFailed(path: string, err: unknown, outcome: string): HostsFileError {
  const message = `cannot write ${path}: ${describeError(err)}; ${outcome}`;
  return new HostsFileError('HOSTS_WRITE_FAILED', path, message, errnoOf(err), { cause: err });
}

export async function readHostsFile(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const message = `cannot read ${path}: ${describeError(err)}`;
    throw new HostsFileError('HOSTS_READ_FAILED', path, message, errnoOf(err), { cause: err });
  }
  try {
    // Fatal: a lenient decode would turn stray Latin-1 bytes into U+FFFD and write them back changed.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    const message = `cannot read ${path}: it is not valid UTF-8, and rewriting it would alter bytes outside the managed block; fix its encoding`;
    throw new HostsFileError('HOSTS_READ_FAILED', path, message, undefined, { cause: err });
  }
}

export async function writeHostsFile(path: string, content: string): Promise<WriteResult> {
  // Through a symlink (/etc/hosts -> /run/…), replace the file it points at, not the link itself.
  const target = await realpath(path).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return path;
    throw writeFailed(path, err, 'the file is unchanged');
  });
  const original = await stat(target).catch((err: unknown) => {
    if (errnoOf(err) === 'ENOENT') return null;
    throw writeFailed(path, err, 'the file is unchanged');
  });
  const data = Buffer.from(content, 'utf8');
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.pullover-${process.pid}-${randomBytes(6).toString('hex')}`);

  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o600);
  } catch (err) {
    const code = errnoOf(err);
    if (original !== null && code !== undefined && TEMP_IMPOSSIBLE.has(code)) {
      return rewriteInPlace(
        path,
        target,
        data,
        `cannot create a temporary file in ${dir}: ${describeError(err)}`,
      );
    }
    throw writeFailed(path, err, 'the file is unchanged');
  }
  try {
    await fillTemp(handle, data, original);
  } catch (err) {
    await unlink(temp).catch(ignore);
    throw writeFailed(path, err, 'the file is unchanged');
  }
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(ignore);
    const code = errnoOf(err);
    if (original !== null && code !== undefined && RENAME_IMPOSSIBLE.has(code)) {
      const why =
        code === 'EBUSY' ? 'it is a mount point (bind-mounted, as in containers)' : 'it is on another mount';
      return rewriteInPlace(
        path,
        target,
        data,
        `rename over ${target} failed with ${describeError(err)}: ${why}`,
      );
    }
    throw writeFailed(path, err, 'the file is unchanged');
  }
  await syncDirectory(path, dir);
  return { method: 'rename' };
}

async function fillTemp(handle: FileHandle, data: Buffer, original: Stats | null): Promise<void> {
  try {
    await handle.writeFile(data);
    if (original === null) {
      await handle.chmod(0o644);
    } else {
      await handle.chown(original.uid, original.gid).catch((err: unknown) => {
        // Unprivileged chown is refused, and harmless when the file is ours already.
        const uid = process.getuid?.();
        if (errnoOf(err) === 'EPERM' && uid !== 0 && uid === original.uid) return;
        throw err;
      });
      // After chown: chown clears setuid/setgid bits, so the mode is applied last.
      await handle.chmod(original.mode & 0o7777);
    }
    await handle.sync();
  } finally {
    // Close errors count: NFS reports a failed write-back only at close.
    await handle.close();
  }
}

async function syncDirectory(path: string, dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    // Some filesystems cannot fsync a directory at all; the rename itself has happened.
    if (errnoOf(err) === 'EINVAL') return;
    const outcome = `the new file is in place, but a crash before the directory ${dir} reaches the disk may bring back the old one`;
    throw writeFailed(path, err, outcome);
  }
}

/** Not crash-safe (a crash mid-write leaves a mix), which is why the reason goes to the log. */
async function rewriteInPlace(
  path: string,
  target: string,
  data: Buffer,
  reason: string,
): Promise<WriteResult> {
  let handle: FileHandle;
  try {
    handle = await open(target, 'r+');
  } catch (err) {
    throw writeFailed(
      path,
      err,
      `${reason}, and it cannot be rewritten in place either; the file is unchanged`,
    );
  }
  let touched = false;
  try {
    for (let offset = 0; offset < data.length; ) {
      touched = true;
      const { bytesWritten } = await handle.write(data, offset, data.length - offset, offset);
      offset += bytesWritten;
    }
    // Truncate after writing, so the file is never empty, only briefly longer than it should be.
    touched = true;
    await handle.truncate(data.length);
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(ignore);
    const outcome = touched
      ? 'it was being rewritten in place and may be partly written'
      : 'the file is unchanged';
    throw writeFailed(path, err, outcome);
  }
  return { method: 'in-place', reason: `${reason}; rewrote ${target} in place, which is not atomic` };
}
