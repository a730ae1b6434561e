import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatPath, issueLines } from '@pullover/protocol';
import { describeCause, StateError, StateWriteError } from '../errors.js';
import { ControllerState, migrateState, STATE_FORMAT } from './schema.js';
import type { Store } from './store.js';

const RESTORE =
  'It was left untouched. Restore it from a backup: starting without it would restart the version at 1, and agents refuse versions older than the one they applied.';

/** `state_dir/state.json`, replaced atomically: a crash at any instant leaves the old state or the new one. */
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

  async save(state: ControllerState): Promise<void> {
    const text = `${JSON.stringify(ControllerState.parse(state), null, 2)}\n`;
    const temp = join(this.dir, `.state.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(text);
        // Data on disk before the rename makes it visible, or a crash could leave an empty state.json.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.location);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw new StateWriteError(
        `cannot save ${this.location}: ${describeCause(error)}; the previous state is intact`,
        { cause: error },
      );
    }
    await this.#syncDir();
  }

  /** The rename itself is durable only once the directory entry is. */
  async #syncDir(): Promise<void> {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(this.dir, 'r');
      await handle.sync();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Some filesystems cannot fsync a directory; the rename is then as durable as they allow.
      if (code === 'EINVAL' || code === 'EISDIR' || code === 'ENOTSUP') return;
      throw new StateWriteError(
        `saved ${this.location} but could not flush ${this.dir} (${describeCause(error)}); the new state may not survive a power loss`,
        { cause: error },
      );
    } finally {
      await handle?.close();
    }
  }
}
