// Replacing a file so that a crash at any instant leaves the old file or the new one, never a torn
// one: temp file in the same directory, fsync, rename, fsync of the directory. The hosts file and
// both state files (the controller's and the agent's) are written here, under one policy:
// - a symlink is followed: the file it points at is replaced, not the link (/etc/hosts -> /run/…);
// - an existing file keeps its mode and owner; a new one gets `mode`;
// - a directory that cannot be fsynced at all (EINVAL, EISDIR, ENOTSUP: some filesystems) is
//   accepted, the rename being as durable as the filesystem allows; any other failure is an error;
// - when rename cannot replace the file (EBUSY: it is bind-mounted, as Docker's /etc/hosts; EXDEV:
//   another mount) or no temp file can be made next to it (EACCES, EPERM, EROFS: a read-only or
//   foreign directory around a writable file), the write fails, unless `inPlace` allows rewriting
//   the file where it is: not crash-safe, so the result says why. Only the hosts file allows it; a
//   torn state file would lose the version floor.
import { readdirSync, type Stats, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { BLOCKING, type Maybe, type SystemCalls, THREAD_POOL } from './system-calls.js';

export interface AtomicWriteOptions {
  /** The mode of a file that does not exist yet; an existing one keeps its own. */
  readonly mode: number;
  /** Rewrite the file in place when it cannot be replaced by rename (see above). */
  readonly inPlace?: boolean;
  /**
   * Synchronous system calls, for an agent: it has one small file to write and nothing else to do
   * meanwhile, and a dozen thread-pool round trips per write cost more than the writes themselves
   * (the fan-out bench runs thousands of agents per process). The controller keeps its event loop
   * free instead: a slow disk must not stall the monitoring of every cluster.
   */
  readonly blocking?: boolean;
}

export type AtomicWriteResult =
  | { readonly method: 'rename' }
  /** `reason`: why the atomic rename could not be used; the caller logs it. */
  | { readonly method: 'in-place'; readonly reason: string };

/** What a failed write left behind. */
export type WriteOutcome = 'unchanged' | 'partly-written' | 'not-durable';

/** Each package wraps it in its own error with a stable code (HOSTS_WRITE_FAILED, PULLOVER_STATE_WRITE). */
export class AtomicWriteError extends Error {
  constructor(
    readonly path: string,
    readonly outcome: WriteOutcome,
    /** The underlying errno (`ENOSPC`, `EACCES`, …) when there is one. */
    readonly errno: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AtomicWriteError';
  }
}

/** `ENOSPC (no space left on device)`: the errno for searching, the words for reading. */
export function describeErrno(error: unknown): string {
  const { code, errno } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof code === 'string') {
    const words = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
    return words === undefined ? code : `${code} (${words})`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const RENAME_IMPOSSIBLE = new Set(['EBUSY', 'EXDEV']);
const TEMP_IMPOSSIBLE = new Set(['EACCES', 'EPERM', 'EROFS']);
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'ENOTSUP']);

function failed(
  path: string,
  error: unknown,
  outcome: WriteOutcome,
  words = 'the file is unchanged',
): AtomicWriteError {
  const message = `cannot write ${path}: ${describeErrno(error)}; ${words}`;
  return new AtomicWriteError(path, outcome, errnoOf(error), message, { cause: error });
}

/** Runs a cleanup step whose own failure must not hide the error being reported. */
async function quietly(step: () => Maybe<unknown>): Promise<void> {
  try {
    await step();
  } catch {
    // the original error is the one the operator needs
  }
}

/** The prefix of our temp files next to `target`: how uninstall finds a killed writer's leftovers. */
function tempPrefix(target: string): string {
  return `.${basename(target)}.pullover-`;
}

/** Replaces `path` with `content` under the policy above; throws AtomicWriteError. */
export async function writeFileAtomic(
  path: string,
  content: string,
  options: AtomicWriteOptions,
): Promise<AtomicWriteResult> {
  const io = options.blocking ? BLOCKING : THREAD_POOL;
  // lstat first: one system call in the common case, where realpath(3) costs one per path component.
  const link = await orMissing(() => io.lstat(path), null, path);
  const isLink = link?.isSymbolicLink() ?? false;
  const target = isLink ? await orMissing(() => io.realpath(path), path, path) : path;
  const original = isLink ? await orMissing(() => io.stat(target), null, path) : link;
  const data = Buffer.from(content, 'utf8');
  const dir = dirname(target);
  const inPlace = options.inPlace && original !== null;
  // Unique enough among writers of one directory (`wx` refuses a collision); not a secret.
  const temp = join(dir, `${tempPrefix(target)}${process.pid}-${Math.random().toString(36).slice(2, 10)}`);

  let fd: number;
  try {
    fd = await io.open(temp, 'wx', 0o600);
  } catch (error) {
    if (inPlace && TEMP_IMPOSSIBLE.has(errnoOf(error) ?? '')) {
      return rewriteInPlace(io, path, target, data, `cannot create a temporary file in ${dir}: ${describeErrno(error)}`);
    }
    throw failed(path, error, 'unchanged');
  }
  try {
    await fillTemp(io, fd, data, original, options.mode);
  } catch (error) {
    await quietly(() => io.unlink(temp));
    throw failed(path, error, 'unchanged');
  }
  try {
    await io.rename(temp, target);
  } catch (error) {
    await quietly(() => io.unlink(temp));
    const code = errnoOf(error);
    if (inPlace && RENAME_IMPOSSIBLE.has(code ?? '')) {
      const why = code === 'EBUSY' ? 'it is a mount point (bind-mounted, as in containers)' : 'it is on another mount';
      return rewriteInPlace(io, path, target, data, `rename over ${target} failed with ${describeErrno(error)}: ${why}`);
    }
    throw failed(path, error, 'unchanged');
  }
  await syncDirectory(io, path, dir);
  return { method: 'rename' };
}

/** `fallback` when the file does not exist; any other failure is a write failure. */
async function orMissing<T, F>(step: () => Maybe<T>, fallback: F, path: string): Promise<T | F> {
  try {
    return await step();
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return fallback;
    throw failed(path, error, 'unchanged');
  }
}

async function fillTemp(
  io: SystemCalls,
  fd: number,
  data: Buffer,
  original: Stats | null,
  mode: number,
): Promise<void> {
  try {
    await writeAll(io, fd, data);
    if (original === null) {
      await io.fchmod(fd, mode);
    } else {
      try {
        await io.fchown(fd, original.uid, original.gid);
      } catch (error) {
        // Unprivileged chown is refused, and harmless when the file is ours already.
        const uid = process.getuid?.();
        if (!(errnoOf(error) === 'EPERM' && uid !== 0 && uid === original.uid)) throw error;
      }
      // After chown: chown clears setuid/setgid bits, so the mode is applied last.
      await io.fchmod(fd, original.mode & 0o7777);
    }
    await io.fsync(fd);
  } finally {
    // Close errors count: NFS reports a failed write-back only at close.
    await io.close(fd);
  }
}

async function writeAll(io: SystemCalls, fd: number, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length;) {
    offset += await io.write(fd, data, offset, data.length - offset, offset);
  }
}

/** The rename itself is durable only once the directory entry is. */
async function syncDirectory(io: SystemCalls, path: string, dir: string): Promise<void> {
  try {
    const fd = await io.open(dir, 'r');
    try {
      await io.fsync(fd);
    } finally {
      await io.close(fd);
    }
  } catch (error) {
    if (DIR_SYNC_UNSUPPORTED.has(errnoOf(error) ?? '')) return;
    const words = `the new file is in place, but a crash before the directory ${dir} reaches the disk may bring back the old one`;
    throw failed(path, error, 'not-durable', words);
  }
}

/** Not crash-safe (a crash mid-write leaves a mix), which is why the reason goes to the log. */
async function rewriteInPlace(
  io: SystemCalls,
  path: string,
  target: string,
  data: Buffer,
  reason: string,
): Promise<AtomicWriteResult> {
  let fd: number;
  try {
    fd = await io.open(target, 'r+');
  } catch (error) {
    throw failed(path, error, 'unchanged', `${reason}, and it cannot be rewritten in place either; the file is unchanged`);
  }
  let touched = false;
  try {
    touched = data.length > 0;
    await writeAll(io, fd, data);
    // Truncate after writing, so the file is never empty, only briefly longer than it should be.
    touched = true;
    await io.ftruncate(fd, data.length);
    await io.fsync(fd);
    await io.close(fd);
  } catch (error) {
    await quietly(() => io.close(fd));
    if (!touched) throw failed(path, error, 'unchanged');
    throw failed(path, error, 'partly-written', 'it was being rewritten in place and may be partly written');
  }
  return { method: 'in-place', reason: `${reason}; rewrote ${target} in place, which is not atomic` };
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
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // see above
    }
  }
  return removed;
}
