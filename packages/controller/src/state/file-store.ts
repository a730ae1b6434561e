import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AtomicWriteError, formatPath, issueLines, writeFileAtomic } from '@pullover/protocol';
import { describeCause, StateError, StateWriteError } from '../errors.js';
import { ControllerState, migrateState, STATE_FORMAT } from './schema.js';
import type { Store } from './store.js';

/** Held by the running controller: two on one state dir would both act on the same MySQL servers. */
export interface StateDirLock {
  readonly file: string;
  /** Called if the lock ends while held (its flock process was killed): stop acting. */
  onLost(listener: () => void): void;
  release(): Promise<void>;
}

const RESTORE =
  'It was left untouched. Restore it from a backup: starting without it would restart the version at 1, and agents refuse versions older than the one they applied.';

/** How long a lock whose named holder has exited is tried again: its flock process ends a moment later. */
const HOLDER_GONE_GRACE_MS = 2000;

/** flock(1) holding `file`, or undefined if another process holds it. */
async function flockChild(file: string): Promise<ChildProcessByStdio<Writable, Readable, null> | undefined> {
  const child = spawn('flock', ['--exclusive', '--nonblock', file, 'sh', '-c', 'echo locked; exec cat'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const outcome = await new Promise<'locked' | 'busy' | Error>((resolve) => {
    child.stdout.once('data', () => resolve('locked'));
    child.once('exit', () => resolve('busy'));
    child.once('error', resolve);
  });
  if (outcome instanceof Error) {
    throw new StateError(`cannot lock ${file}: flock (util-linux) did not run: ${describeCause(outcome)}`);
  }
  return outcome === 'locked' ? child : undefined;
}

function isAlive(pid: string): boolean {
  if (!/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `state_dir/state.json`, replaced atomically (protocol's writeFileAtomic): a crash at any instant
 * leaves the old state or the new one. Written on the thread pool: a slow disk must not stall the
 * monitoring of every cluster.
 */
export class FileStore implements Store {
  readonly dir: string;
  readonly location: string;

  constructor(dir: string) {
    this.dir = dir;
    this.location = join(dir, 'state.json');
  }

  async load(): Promise<ControllerState | null> {
    let text: string;
    try {
      text = await readFile(this.location, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateError(
        `cannot read ${this.location}: ${describeCause(error)}. The controller needs to read and write ${this.dir}; refusing to start without the recorded master and version.`,
        { cause: error },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new StateError(`${this.location} is not valid JSON (${describeCause(error)}). ${RESTORE}`, {
        cause: error,
      });
    }
    const format = (json as { format?: unknown } | null)?.format;
    if (typeof format === 'number' && format > STATE_FORMAT) {
      throw new StateError(
        `${this.location} was written by a newer pullover-controller (state format ${format}, this one reads ${STATE_FORMAT}); run the newer version. It was left untouched.`,
      );
    }
    const result = ControllerState.safeParse(migrateState(json));
    if (!result.success) {
      const issues = issueLines(result.error.issues, formatPath).join('; ');
      throw new StateError(
        `${this.location} is not a valid pullover state (${issues}). ${RESTORE}`,
      );
    }
    return result.data;
  }

  /**
   * Takes `state_dir/controller.lock`, or throws StateError naming the PID that holds it. A kernel
   * lock (flock), not a PID file judged alive: it ends with the process however it ends, and a PID
   * reused after a crash cannot keep it. Node has no flock of its own, so flock(1) holds it and runs
   * `cat` on our stdin: when this process exits, the pipe closes, cat and flock exit, the lock is free.
   */
  async lock(): Promise<StateDirLock> {
    const file = join(this.dir, 'controller.lock');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const deadline = performance.now() + HOLDER_GONE_GRACE_MS;
    for (;;) {
      const child = await flockChild(file);
      if (child) return this.#held(file, child);
      const holder = (await readFile(file, 'utf8').catch(() => '')).trim() || 'unknown';
      // A holder killed a moment ago lets go only once its flock process has read the end of the pipe.
      if (!isAlive(holder) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      throw new StateError(
        `${this.dir} is in use by another pullover-controller (pid ${holder}, holding ${file}); two controllers on one state dir would both act on the same MySQL servers. Stop that one, or give this one its own state_dir.`,
      );
    }
  }

  async #held(file: string, child: ChildProcessByStdio<Writable, Readable, null>): Promise<StateDirLock> {
    // Same inode, never replaced: the lock is on the file, the PID only names its holder.
    await writeFile(file, `${process.pid}\n`, { mode: 0o600 });
    // A forgotten lock must not keep a process alive; exiting releases it.
    child.unref();
    for (const stream of [child.stdin, child.stdout]) (stream as unknown as { unref(): void }).unref();
    let released = false;
    return {
      file,
      onLost: (listener) => child.once('exit', () => released || listener()),
      release: async () => {
        released = true;
        // Held again while it ends: an unreferenced child would let the process exit mid-await.
        child.ref();
        const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve();
        child.stdin.end();
        await exited;
      },
    };
  }

  async save(state: ControllerState): Promise<void> {
    const text = `${JSON.stringify(ControllerState.parse(state), null, 2)}\n`;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StateWriteError(`cannot create ${this.dir}: ${describeCause(error)}; the previous state is intact`, {
        cause: error,
      });
    }
    try {
      // Never in place: a torn state.json would restart the version at 1.
      await writeFileAtomic(this.location, text, { mode: 0o600 });
    } catch (error) {
      throw new StateWriteError(error instanceof AtomicWriteError ? error.message : describeCause(error), {
        cause: error,
      });
    }
  }
}
