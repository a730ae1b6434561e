import { MASTER_STATES, type MasterState } from '../failover/detector.js';
import type { ClusterMonitors } from '../monitor/cluster-monitors.js';
import type { StateKeeper } from '../state/keeper.js';
import { label, metric } from './metric-text.js';
import { lastFailedSteps } from './status.js';

/** Per cluster: the master's health, each server as last observed, the failover block and past failovers. */
export function clusterMetrics(keeper: StateKeeper, monitors: ClusterMonitors | undefined, now: Date): string[] {
  const up: [string, number][] = [];
  const masterReadOnly: [string, number][] = [];
  const masterState: [string, number][] = [];
  const fenced: [string, number][] = [];
  const failedSteps: [string, number][] = [];
  const failures: [string, number][] = [];
  const serverUp: [string, number][] = [];
  const readOnly: [string, number][] = [];
  const lag: [string, number][] = [];
  const blocked: [string, number][] = [];
  const paused: [string, number][] = [];
  const running: [string, number][] = [];
  const total: [string, number][] = [];
  const stepSeconds: [string, number][] = [];
  for (const cluster of keeper.config.clusters) {
    const c = `cluster="${label(cluster.name)}"`;
    const monitor = monitors?.monitor(cluster.name);
    const health = monitor?.health?.verdict.state;
    if (health !== undefined) {
      up.push([`{${c}}`, health === 'master-alive' ? 1 : 0]);
      masterReadOnly.push([`{${c}}`, health === 'master-read-only' ? 1 : 0]);
      // One series per state, 1 for the current one: an alert names the state it is about.
      for (const state of Object.keys(MASTER_STATES) as MasterState[]) {
        masterState.push([`{${c},state="${state}"}`, health === state ? 1 : 0]);
      }
    }
    const fencedNow = keeper.fencedServers(cluster.name);
    if (monitor) failures.push([`{${c}}`, monitor.consecutiveFailures]);
    for (const server of cluster.servers) {
      const s = `{${c},server="${label(server.name)}"}`;
      fenced.push([s, fencedNow.includes(server.name) ? 1 : 0]);
      const o = monitor?.observation(server.name);
      if (!o) continue;
      serverUp.push([s, o.reachable ? 1 : 0]);
      if (o.readOnly !== undefined) readOnly.push([s, o.readOnly ? 1 : 0]);
      const behind = o.replica?.secondsBehind;
      if (behind !== null && behind !== undefined) lag.push([s, behind]);
    }
    const state = keeper.failoverState(cluster.name);
    blocked.push([`{${c}}`, keeper.blockedUntil(cluster.name, now) ? 1 : 0]);
    paused.push([`{${c}}`, keeper.pausedUntil(cluster.name, now) ? 1 : 0]);
    running.push([`{${c}}`, state.running ? 1 : 0]);
    failedSteps.push([`{${c}}`, lastFailedSteps(keeper, cluster.name).length]);
    // The durable count, not the records: those are capped, and a counter must never go down.
    const filed = keeper.state.failovers_filed[cluster.name];
    for (const outcome of ['done', 'failed', 'cancelled'] as const) {
      total.push([`{${c},outcome="${outcome}"}`, filed?.[outcome] ?? 0]);
    }
    const last = keeper.state.failovers.findLast((r) => r.cluster === cluster.name);
    for (const step of last?.steps ?? []) stepSeconds.push([`{${c},step="${step.name}"}`, step.ms / 1000]);
  }
  return [
    metric('pullover_master_up', 'gauge', 'Whether the detector finds the master alive (1) or not (0).', up),
    metric('pullover_master_read_only', 'gauge', 'The master answers but is read_only: no server takes writes (alert on 1; set-writable fixes it).', masterReadOnly),
    metric('pullover_master_state', 'gauge', 'The detector\'s verdict on the master: 1 for the current state, 0 for the others.', masterState),
    metric('pullover_server_fenced', 'gauge', 'The server was fenced by a failover (an old master): it must stay read_only until it rejoins.', fenced),
    metric('pullover_master_consecutive_failures', 'gauge', 'Consecutive failed pings of the master.', failures),
    metric('pullover_server_up', 'gauge', 'Whether the controller could observe the server on its last look.', serverUp),
    metric('pullover_server_read_only', 'gauge', 'The server\'s read_only as last observed.', readOnly),
    metric('pullover_replica_lag_seconds', 'gauge', 'Seconds_Behind_Master of each replica as last observed.', lag),
    metric('pullover_failover_blocked', 'gauge', 'Automatic failover blocked after the last one (until ack or min_interval).', blocked),
    metric('pullover_failover_paused', 'gauge', 'Automatic failover paused by an operator (pullover-controller pause).', paused),
    metric('pullover_failover_running', 'gauge', 'A failover of the cluster is under way.', running),
    metric('pullover_failovers_total', 'counter', 'Failovers filed since the state dir began, by outcome.', total),
    metric('pullover_last_failover_failed_steps', 'gauge', 'Steps of the last failover that did not do all they should (a replica not repointed): a human must look.', failedSteps),
    metric('pullover_last_failover_step_seconds', 'gauge', 'How long each step of the last failover took.', stepSeconds),
  ];
}
