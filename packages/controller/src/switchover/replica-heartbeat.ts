import type { ReplicaHeartbeatResponse } from '@pullover/protocol';
import { describeCause } from '../errors.js';
import type { ExecutorDeps } from '../failover/executor.js';
import { verifyReplicating } from '../failover/repoint.js';
import type { ServerObservation } from '../topology/observation.js';

// Replicas pullover points get monitor.replica_heartbeat with their CHANGE MASTER. Those pointed
// by hand keep MariaDB's default period (half of slave_net_timeout: 30 s), and a hung master is
// confirmed by their silence only that late. This gives them the cluster's period, one replica at
// a time, with the shortest sequence the server accepts, and checks that each replicates again.

type Outcome = ReplicaHeartbeatResponse['replicas'][number];

/** Why `o` is left alone, or undefined when its heartbeat may be changed. */
function leftAlone(o: ServerObservation, master: { name: string; address: string }): string | undefined {
  if (!o.reachable) return `does not answer (${o.failure?.message ?? 'not observed'})`;
  const r = o.replica;
  if (!r || r.masterHost !== master.address) return `replicates from ${r?.masterHost ?? 'nobody'}, not ${master.name}: see pullover-controller rejoin`;
  // MariaDB's sequence restarts both threads: one stopped by hand or on an error stays as it is.
  if (r.io !== 'yes' || !r.sqlRunning) return `has its IO thread ${r.io} and its SQL thread ${r.sqlRunning ? 'running' : 'stopped'}: fix replication first`;
  if (!r.heartbeats) return 'does not show its heartbeat period';
  return undefined;
}

export async function setReplicaHeartbeat(
  deps: ExecutorDeps,
  masterName: string,
  others: readonly string[],
): Promise<ReplicaHeartbeatResponse> {
  const { observer, cluster } = deps;
  const wantMs = cluster.monitor.replica_heartbeat;
  const master = observer.server(masterName);
  const replicas: Outcome[] = [];
  for (const o of await observer.observeAll(others)) {
    const why = leftAlone(o, master);
    const periodMs = o.replica?.heartbeats?.periodMs;
    if (why) replicas.push({ name: o.name, outcome: 'skipped', detail: `${o.name} ${why}` });
    else if (periodMs === wantMs) replicas.push({ name: o.name, outcome: 'already', detail: `${o.name} receives a heartbeat every ${wantMs / 1000} s already` });
    else replicas.push(await change(deps, o.name, master, periodMs));
  }
  return { cluster: cluster.name, master: masterName, heartbeat_s: wantMs / 1000, replicas };
}

async function change(
  deps: ExecutorDeps,
  name: string,
  master: { name: string; address: string },
  fromMs: number | undefined,
): Promise<Outcome> {
  const { observer, cluster } = deps;
  const wantS = cluster.monitor.replica_heartbeat / 1000;
  const what = `${name}: heartbeat every ${(fromMs ?? 0) / 1000} s → ${wantS} s`;
  try {
    const session = await observer.session(name);
    await session.run(session.dialect.setHeartbeat(wantS), cluster.failover.catchup_timeout);
    const replicating = await verifyReplicating(observer, name, observer.server(master.name));
    if (!replicating.ok) return { name, outcome: 'failed', detail: `${what}, but ${replicating.detail}` };
    return { name, outcome: 'set', detail: `${what}, replicating from ${master.name} again` };
  } catch (error) {
    return { name, outcome: 'failed', detail: `${what} failed: ${describeCause(error)}` };
  }
}
