import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AtomicWriteError, formatPath, issueLines, writeFileAtomic } from '@pullover/protocol';
import { describeCause, StateError, StateWriteError } from '../errors.js';
import { ControllerState, migrateState, STATE_FORMAT } from './schema.js';
import type { Store } from './store.js';

const RESTORE =
  'It was left untouched. Restore it from a backup: starting without it would restart the version at 1, and agents refuse versions older than the one they applied.';

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
