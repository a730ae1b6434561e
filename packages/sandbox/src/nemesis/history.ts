// What a nemesis run records, and all the checker judges: plain data, so a history can be written
// by hand in a unit test, or saved as JSON and judged again.
import type { ReadOnlySample } from '../sampler.js';
import type { WriteAttempt } from '../writer.js';

export interface ServerIdentity {
  name: string;
  serverId: number;
  address: string;
}

/** One server as it was at the end, after every fault was healed and the system had time to converge. */
export interface FinalServer {
  name: string;
  reachable: boolean;
  readOnly: boolean | null;
  /** SHOW SLAVE STATUS, or null when it replicates from nobody. */
  replication: {
    masterHost: string;
    io: string;
    sql: string;
    ioError: string;
    sqlError: string;
    /** Slave_SQL_Running_State: what the SQL thread is doing (or waiting for). */
    sqlState?: string;
  } | null;
  /** @@gtid_binlog_state: the last GTID per domain and originating server. */
  gtidBinlogState: string;
  /** Every id in app.writes. */
  rowIds: number[];
  /** MASTER_GTID_WAIT for the master's gtid_binlog_pos succeeded (replicas only). */
  caughtUp?: boolean;
}

/** The fields of a failover record (GET /v1/history) the checker reads. */
export interface FailoverSummary {
  id: string;
  old_master: string;
  new_master: string | null;
  outcome: 'running' | 'done' | 'failed';
  error?: string;
  steps: { name: string; at: string }[];
}

export interface FinalState {
  servers: FinalServer[];
  /** Where each app host's hosts file points the managed hostname. */
  hosts: { agent: string; address: string | undefined }[];
  failovers: FailoverSummary[];
  /** The controller's status: its master, and the former masters it keeps fenced. */
  controllerMaster: string | undefined;
  fenced: string[];
  /** The controller's verdict on the master, its sentence (status `health`). */
  health: string | undefined;
  /** …and its name (`master-read-only`, …). */
  healthState?: string | undefined;
}

export interface RunHistory {
  /** restart_recovery in the controller's config: manual leaves a master back read_only to an operator. */
  restartRecovery?: 'auto' | 'manual';
  servers: ServerIdentity[];
  initialMaster: string;
  /** Date.now() when the master was lost, if it was. */
  masterFaultAt: number | undefined;
  writes: (WriteAttempt & { writer: string })[];
  samples: ReadOnlySample[];
  final: FinalState;
}
