import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AtomicWriteError, describeErrno, Mapping, removeStrayTemps, writeFileAtomic } from '@pullover/protocol';
import { z } from 'zod';
import { AgentStateError, AgentStateWriteError } from './errors.js';

/**
 * What survives an agent restart: the anti-rollback floor, and the mapping itself so that a
 * restarted agent can repair its block before any controller answers.
 */
export const AgentState = z.strictObject({
  mapping: Mapping.nullable(),
  applied_at: z.string(),
  controller: z.string(),
});
export type AgentState = z.infer<typeof AgentState>;

export const EMPTY_STATE: AgentState = Object.freeze({ mapping: null, applied_at: '', controller: '' });

export function appliedVersion(state: AgentState): number {
  return state.mapping?.version ?? 0;
}

export class StateFile {
  readonly dir: string;
  readonly path: string;
  #dirMade = false;

  constructor(dir: string) {
    this.dir = dir;
    this.path = join(dir, 'agent-state.json');
  }

  async load(): Promise<AgentState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
      throw new AgentStateError(this.path, `cannot read: ${(error as NodeJS.ErrnoException).code}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = AgentState.safeParse(json);
    // Never guess the floor: starting from 0 would let a replayed old mapping through.
    if (!parsed.success) throw new AgentStateError(this.path, 'corrupt; move it aside to start from scratch');
    return parsed.data;
  }

  async save(state: AgentState): Promise<void> {
    if (!this.#dirMade) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
        throw new AgentStateWriteError(this.path, `cannot create ${this.dir}: ${describeErrno(error)}`, { cause: error });
      });
      this.#dirMade = true;
    }
    // Never rewritten in place, unlike the hosts file: a torn state file would lose the floor.
    await writeFileAtomic(this.path, `${JSON.stringify(state)}\n`, { mode: 0o644, blocking: true }).catch(
      (error: unknown) => {
        const what = error instanceof AtomicWriteError ? error.message : describeErrno(error);
        throw new AgentStateWriteError(this.path, what, { cause: error });
      },
    );
  }

  /**
   * For uninstall; returns the paths deleted. The floor goes too: a reinstall against a rebuilt
   * controller (versions from 1 again) would refuse every mapping, and a kept mapping would put the
   * block back at the next start, before any controller is asked. The directory stays: under
   * systemd it is the unit's StateDirectory, which systemd creates and removes.
   */
  async remove(): Promise<string[]> {
    const removed = removeStrayTemps(this.path);
    try {
      await unlink(this.path);
      removed.push(this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new AgentStateError(this.path, `cannot delete: ${code}`);
    }
    return removed;
  }
}
