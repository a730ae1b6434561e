import type { ReplicaStatus } from '../mysql/dialect.js';

// A replica whose IO thread says Yes is not proof that its master lives: a frozen or black-holed
// master leaves the connection open with nothing on it until slave_net_timeout (60 s by default)
// runs out. An idle master sends a heartbeat every period, so a receiver that shows no new event
// and no new heartbeat for longer has lost its master as surely as one that is reconnecting.
// Judged from successive looks on the controller's monotonic clock: Slave_last_heartbeat has a
// one-second resolution and the replica's clock is not ours.

/** The last time a look found something new on a replica's receiver. */
export interface Heard {
  /** Everything that moves when the master sends anything: its address, heartbeats, binlog position, GTIDs. */
  readonly token: string;
  /** performance.now() of the look that first saw this token. */
  readonly atMs: number;
}

/** What a look at a replica says about its receiver; undefined when it receives nothing (stopped, reconnecting, no replication). */
export function noteHeard(
  previous: Heard | undefined,
  replica: ReplicaStatus | null | undefined,
  nowMs: number,
): Heard | undefined {
  if (!replica || replica.io !== 'yes' || !replica.heartbeats) return undefined;
  const { masterHost, masterPort, heartbeats, receivedPosition, receivedGtid } = replica;
  const token = `${masterHost}:${masterPort} ${heartbeats.received} ${receivedPosition} ${receivedGtid}`;
  return previous?.token === token ? previous : { token, atMs: nowMs };
}

/** Silent for longer than this, with a heartbeat every `periodMs`, the receiver has lost its master. */
export function silenceLimitMs(periodMs: number): number {
  // Heartbeats come late from a loaded master or network: half a period (at least 0.5 s) of slack.
  return periodMs + Math.max(500, periodMs / 2);
}

/** How long the receiver has heard nothing, when that says its master is lost; undefined otherwise. */
export function lostBySilence(
  heard: Heard | undefined,
  replica: ReplicaStatus | null | undefined,
  nowMs: number,
): number | undefined {
  const periodMs = replica?.heartbeats?.periodMs;
  if (!heard || !periodMs || replica.io !== 'yes') return undefined;
  const silentMs = nowMs - heard.atMs;
  return silentMs > silenceLimitMs(periodMs) ? silentMs : undefined;
}
