import type { ControllerState } from './schema.js';

/**
 * Durable controller state. A file today; a distributed store (etcd) later, so that a second
 * controller can take over with the same master and version.
 */
export interface Store {
  /** Where the state lives, for messages ("/var/lib/pullover/state.json"). */
  readonly location: string;
  /** The saved state, or null when nothing was ever saved. Throws StateError when it cannot be trusted. */
  load(): Promise<ControllerState | null>;
  /** Durable when it resolves; throws StateWriteError (and leaves the previous state intact) otherwise. */
  save(state: ControllerState): Promise<void>;
}
