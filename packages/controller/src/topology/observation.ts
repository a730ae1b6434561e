import type { ReplicaStatus } from '../mysql/dialect.js';
import type { Flavor } from '../mysql/gtid.js';
import type { FailureKind } from '../mysql/session.js';

/** What one look at one server found. Decisions read these; nothing reads MySQL mid-decision. */
export interface ServerObservation {
  readonly name: string;
  readonly address: string;
  readonly at: Date;
  readonly reachable: boolean;
  readonly failure?: { readonly kind: FailureKind; readonly message: string };
  readonly flavor?: Flavor;
  readonly version?: string;
  readonly readOnly?: boolean;
  /** Executed GTID position (MariaDB gtid_current_pos, MySQL gtid_executed). */
  readonly executedGtid?: string;
  /** log_bin and log_slave_updates both on: what it replicates, it can serve to another replica. */
  readonly writesReplicatedToBinlog?: boolean;
  /** Its replication, or null when it replicates from nobody. Undefined when unreachable. */
  readonly replica?: ReplicaStatus | null;
}

/** Everything received, relay log included: what a replica could apply and serve as a master. */
export function receivedGtid(o: ServerObservation): string {
  return o.replica?.receivedGtid || o.executedGtid || '';
}
