import type { FailureKind } from '../mysql/session.js';
import type { ServerObservation } from '../topology/observation.js';

// What `pullover-controller check` gathered about a cluster: plain data, so that the findings are
// a pure function of it and the tests are tables of these.

export type Level = 'ok' | 'WARN' | 'FAIL';

/** One line of the report. Every WARN and FAIL says what to do. */
export interface Finding {
  readonly level: Level;
  readonly server: string;
  readonly text: string;
  readonly fix?: string;
}

export interface LoginFailure {
  readonly kind: FailureKind;
  readonly message: string;
}

export interface ServerFacts {
  readonly name: string;
  readonly address: string;
  readonly candidate: boolean;
  readonly no_master: boolean;
  /** The monitoring user's look at it, as the controller's monitor takes it. */
  readonly observation: ServerObservation;
  /** Whether the monitoring user logged in (it may have, and still failed to read the replication state). */
  readonly loggedIn: boolean;
  /** SHOW GRANTS of the monitoring user; empty when it could not be read. */
  readonly grants: readonly string[];
  /** The SHOW GLOBAL VARIABLES the checks read, by lower-case name; only those the server has. */
  readonly variables: Readonly<Record<string, string>>;
  /** The SHOW GLOBAL STATUS the checks read (semi-sync), by lower-case name. */
  readonly status: Readonly<Record<string, string>>;
  /** The replication user's own SHOW GRANTS, or why it could not log in; undefined when not tried. */
  readonly replication?: { readonly grants: readonly string[] } | { readonly failure: LoginFailure };
}

export interface ClusterFacts extends ClusterBase {
  /** In config order. */
  readonly servers: readonly ServerFacts[];
}

/** The longest a failover may take with the cluster's settings (ms), and what it is made of. */
export interface FailoverBound {
  readonly ms: number;
  readonly how: string;
}

/** What is known of a cluster before its servers are looked at. */
export interface ClusterBase {
  readonly cluster: string;
  readonly port: number;
  readonly user: string;
  readonly replicationUser: string;
  /** The master pullover knows of, and where that came from ("state.json", "the config"). */
  readonly master: string;
  readonly masterFrom: string;
  /** Former masters kept read-only by the controller: never promoted nor repointed. */
  readonly fenced: readonly string[];
  /** Automatic failover blocked until then (ISO time) after the last failover, or null. */
  readonly blockedUntil: string | null;
  readonly auto: boolean;
  /** The monitor's timeout, in milliseconds: what a server has to answer within. */
  readonly timeoutMs: number;
  /** monitor.replica_heartbeat (ms): the heartbeat period pullover gives the replicas it points. */
  readonly replicaHeartbeatMs: number;
  /** How long a failover may take with the cluster's settings: semi-sync must wait longer. */
  readonly failoverBound: FailoverBound;
}

/** A yes/no variable: MariaDB and MySQL answer ON/OFF (or 1/0). */
export function isOn(value: string | undefined): boolean {
  return value !== undefined && ['ON', '1', 'YES', 'TRUE'].includes(value.toUpperCase());
}

/** The first of `names` the server has, with its value: MySQL 8.0.26+ renamed master/slave to source/replica. */
export function pick(
  values: Readonly<Record<string, string>>,
  ...names: string[]
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = values[name];
    if (value !== undefined) return { name, value };
  }
  return undefined;
}
