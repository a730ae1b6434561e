import type { ControllerState } from './schema.js';

/**
 * Durable controller state: a file (one controller, the default), or etcd, where several
 * controllers share it and only the leader writes (EtcdStore).
 */
export interface Store {
  /** Where the state lives, for messages ("/var/lib/pullover/state.json"). */
  readonly location: string;
  /** The saved state, or null when nothing was ever saved. Throws StateError when it cannot be trusted. */
  load(): Promise<ControllerState | null>;
  /** Durable when it resolves; throws StateWriteError (and leaves the previous state intact) otherwise. */
  save(state: ControllerState): Promise<void>;
  /**
   * Several controllers only (etcd): calls `listener` with each state the leader commits, in order,
   * until the returned function is called. Followers serve from it; errors go to `onError` and the
   * following goes on.
   */
  follow?(listener: (committed: CommittedState) => void, onError?: (error: unknown) => void): () => void;
}

/** A state as committed by the leader of `term`, at store revision `revision` (grows with every write). */
export interface CommittedState {
  readonly state: ControllerState;
  readonly term: number;
  readonly revision: number;
}
