import type { SwitchoverRequest, SwitchoverResponse } from '@pullover/protocol';
import { SwitchoverRefused } from '../errors.js';
import { checkSwitchover } from './checks.js';
import { longWritesProblem, runSwitchover, type SwitchoverDeps } from './executor.js';

/**
 * A planned switchover asked for by an operator: checked against the cluster as it is now
 * (replicas, lag, agents, long writes), then carried out unless `dry_run`. Refusals carry every
 * problem found and what was checked.
 */
export async function requestSwitchover(
  deps: SwitchoverDeps,
  masterName: string,
  request: SwitchoverRequest,
): Promise<SwitchoverResponse> {
  const { cluster, keeper, registry, observer, now } = deps;
  const master = observer.server(masterName);
  const live = registry.live(now());
  const behind = live.filter((a) => a.report.applied_version !== keeper.state.version).map((a) => a.name).sort();
  const checked = checkSwitchover({
    master: { name: master.name, address: master.address, port: cluster.mysql.port },
    servers: cluster.servers,
    observations: await observer.observeAll(),
    fenced: keeper.failoverState(cluster.name).fenced,
    to: request.to,
    maxLagS: request.max_lag_s ?? 5,
    blockedUntil: keeper.blockedUntil(cluster.name, now()),
    now: now(),
    agents: { live: live.length, current: live.length - behind.length, behind },
  });
  if (!checked.ok) throw new SwitchoverRefused(cluster.name, checked.problems, checked.checks);
  const busy = await longWritesProblem(deps, master.name);
  if (busy) throw new SwitchoverRefused(cluster.name, [busy], checked.checks);
  const planned = {
    cluster: cluster.name,
    old_master: master.name,
    new_master: checked.target,
    checks: [...checked.checks],
    steps: [],
    write_blocked_ms: null,
    version: null,
  };
  if (request.dry_run) return { ...planned, outcome: 'planned' };
  deps.log({ level: 'warn', message: `${cluster.name}: switchover ${master.name} → ${checked.target} starts` });
  return runSwitchover(deps, {
    oldMaster: master.name,
    target: checked.target,
    repoint: checked.repoint,
    checks: checked.checks,
    catchupTimeoutS: request.catchup_timeout_s ?? 5,
    reason: request.reason,
  });
}
