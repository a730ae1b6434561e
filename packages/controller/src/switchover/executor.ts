import type { SwitchoverResponse, SwitchoverStep } from '@pullover/protocol';
import { awaitAgents } from '../agents/convergence.js';
import { describeCause } from '../errors.js';
import type { ExecutorDeps } from '../failover/executor.js';
import { fenceServer } from '../failover/fence.js';
import { replicateFrom } from '../mysql/replicate.js';

/** What a switchover needs is what a failover needs. */
export type SwitchoverDeps = ExecutorDeps;

export interface SwitchoverPlan {
  readonly oldMaster: string;
  readonly target: string;
  readonly repoint: readonly string[];
  readonly checks: readonly string[];
  readonly catchupTimeoutS: number;
  readonly reason: string | undefined;
}

/**
 * A planned switchover: old master read_only and its clients killed → the target executes
 * everything the old master had → promote → publish → the old master and the other replicas
 * replicate from the target. If the target cannot catch up in time, the old master is made
 * writable again and nothing else has changed.
 */
export async function runSwitchover(deps: SwitchoverDeps, plan: SwitchoverPlan): Promise<SwitchoverResponse> {
  const { observer, keeper, cluster } = deps;
  const steps: SwitchoverStep[] = [];
  let mark = performance.now();
  const step = (name: SwitchoverStep['name'], detail: string) => {
    const ms = Math.round(performance.now() - mark);
    steps.push({ name, ms, detail });
    deps.log({ level: 'info', message: `switchover ${cluster.name}: ${name} in ${ms} ms: ${detail}` });
    mark = performance.now();
  };
  const base = { cluster: cluster.name, old_master: plan.oldMaster, new_master: plan.target, checks: [...plan.checks] };
  const replicationTimeout = cluster.failover.catchup_timeout;

  const old = await observer.session(plan.oldMaster);
  const target = await observer.session(plan.target);
  const blocked = performance.now();
  const { killed } = await fenceServer(old);
  const [position] = await old.query<{ gtid: string }[]>(old.dialect.overview);
  const gtid = String(position?.gtid ?? '');
  step('write-blocked', `${plan.oldMaster} read_only, ${killed} client connection(s) killed, at ${gtid || 'empty'}`);

  const wait = target.dialect.waitForGtid(gtid, plan.catchupTimeoutS);
  const [row] = await target.query<{ r: unknown }[]>(wait, (plan.catchupTimeoutS + 5) * 1000);
  if (gtid !== '' && Number(row?.r) !== 0) {
    await old.run(old.dialect.unfence);
    const error = `${plan.target} did not reach ${gtid} within ${plan.catchupTimeoutS} s`;
    step('rolled-back', `${error}: ${plan.oldMaster} is writable again, nothing else changed`);
    return { ...base, outcome: 'rolled-back', steps, write_blocked_ms: Math.round(performance.now() - blocked), version: null, error };
  }
  step('caught-up', `${plan.target} executed everything up to ${gtid || 'empty'}`);

  await target.run(target.dialect.promote, replicationTimeout);
  step('promoted', `${plan.target} is writable`);
  const version = await keeper.publishSwitchover(cluster.name, plan.target, plan.reason);
  const writeBlockedMs = Math.round(performance.now() - blocked);
  step('published', `${cluster.master_hostnames.join(', ')} → ${plan.target}, version ${version}; writes were blocked for ${writeBlockedMs} ms`);

  const targetServer = observer.server(plan.target);
  const results = await Promise.all(
    plan.repoint.map(async (name) => {
      try {
        const session = await observer.session(name);
        const from = { host: targetServer.address, port: cluster.mysql.port, ...deps.replication };
        await replicateFrom(session, from, { formerMaster: name === plan.oldMaster, timeoutMs: replicationTimeout });
        return `${name} replicates from ${plan.target}`;
      } catch (error) {
        return `${name} NOT repointed (${describeCause(error)}); repoint it by hand`;
      }
    }),
  );
  step('repointed', results.join('; ') || 'no other server');
  step('agents-applied', await awaitAgents(deps.registry, version, cluster.failover.agents_timeout, deps.now()));
  return { ...base, outcome: 'done', steps, write_blocked_ms: writeBlockedMs, version };
}
