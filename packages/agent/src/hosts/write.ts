// Replacing the hosts file so that a crash at any instant leaves the old file or the new one, never a
// truncated one: temp file in the same directory, fsync, rename, fsync of the directory.
//
// Synchronous system calls on purpose: an agent has one small file to write and nothing else to do
// meanwhile, and a dozen thread-pool round trips per write cost more than the writes themselves
// (the fan-out bench runs thousands of agents per process).
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
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

/** Runs a cleanup step whose own failure must not hide the error being reported. */
function quietly(step: () => void): void {
  try {
    step();
  } catch {
    // the original error is the one the operator needs
  }
}

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
    bytes = readFileSync(path);
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
  // lstat first: one system call in the common case, where realpath(3) costs one per path component.
  const link = orMissing(() => lstatSync(path), null, path);
  const target = link?.isSymbolicLink() ? orMissing(() => realpathSync.native(path), path, path) : path;
  const original = link?.isSymbolicLink() ? orMissing(() => statSync(target), null, path) : link;
  const data = Buffer.from(content, 'utf8');
  const dir = dirname(target);
  // Unique enough among writers of one directory (`wx` refuses a collision); not a secret.
  const temp = join(dir, `${tempPrefix(target)}${process.pid}-${Math.random().toString(36).slice(2, 10)}`);

  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o600);
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
    fillTemp(fd, data, original);
  } catch (err) {
    quietly(() => unlinkSync(temp));
    throw writeFailed(path, err, 'the file is unchanged');
  }
  try {
    renameSync(temp, target);
  } catch (err) {
    quietly(() => unlinkSync(temp));
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
  syncDirectory(path, dir);
  return { method: 'rename' };
}

function tempPrefix(target: string): string {
  return `.${basename(target)}.pullover-`;
}

/**
 * Deletes the temp files a killed writer left next to `path` (a crash between open and rename);
 * for uninstall, which must leave nothing of ours behind. Returns the paths deleted.
 */
export function removeStrayTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = tempPrefix(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    // No directory, no leftovers; an unreadable one is reported by the file's own read or write.
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((candidate) => candidate.startsWith(prefix))) {
    // One that cannot be deleted is only litter; it must not stop the rest of the uninstall.
    quietly(() => {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    });
  }
  return removed;
}

/** `fallback` when the file does not exist; any other failure is a write failure. */
function orMissing<T, F>(step: () => T, fallback: F, path: string): T | F {
  try {
    return step();
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return fallback;
    throw writeFailed(path, err, 'the file is unchanged');
  }
}

function fillTemp(fd: number, data: Buffer, original: Stats | null): void {
  try {
    writeAll(fd, data);
    if (original === null) {
      fchmodSync(fd, 0o644);
    } else {
      try {
        fchownSync(fd, original.uid, original.gid);
      } catch (err) {
        // Unprivileged chown is refused, and harmless when the file is ours already.
        const uid = process.getuid?.();
        if (!(errnoOf(err) === 'EPERM' && uid !== 0 && uid === original.uid)) throw err;
      }
      // After chown: chown clears setuid/setgid bits, so the mode is applied last.
      fchmodSync(fd, original.mode & 0o7777);
    }
    fsyncSync(fd);
  } finally {
    // Close errors count: NFS reports a failed write-back only at close.
    closeSync(fd);
  }
}

function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length;) {
    offset += writeSync(fd, data, offset, data.length - offset, offset);
  }
}

function syncDirectory(path: string, dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    // Some filesystems cannot fsync a directory at all; the rename itself has happened.
    if (errnoOf(err) === 'EINVAL') return;
    const outcome = `the new file is in place, but a crash before the directory ${dir} reaches the disk may bring back the old one`;
    throw writeFailed(path, err, outcome);
  }
}

/** Not crash-safe (a crash mid-write leaves a mix), which is why the reason goes to the log. */
function rewriteInPlace(path: string, target: string, data: Buffer, reason: string): WriteResult {
  let fd: number;
  try {
    fd = openSync(target, 'r+');
  } catch (err) {
    throw writeFailed(
      path,
      err,
      `${reason}, and it cannot be rewritten in place either; the file is unchanged`,
    );
  }
  let touched = false;
  try {
    touched = data.length > 0;
    writeAll(fd, data);
    // Truncate after writing, so the file is never empty, only briefly longer than it should be.
    touched = true;
    ftruncateSync(fd, data.length);
    fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    quietly(() => closeSync(fd));
    const outcome = touched
      ? 'it was being rewritten in place and may be partly written'
      : 'the file is unchanged';
    throw writeFailed(path, err, outcome);
  }
  return { method: 'in-place', reason: `${reason}; rewrote ${target} in place, which is not atomic` };
}
