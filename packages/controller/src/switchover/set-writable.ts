import type { SetWritableResponse } from '@pullover/protocol';
import { gtidContains, gtidMissing } from '../mysql/gtid.js';
import type { ServerObservation } from '../topology/observation.js';
import type { ExecutorDeps } from '../failover/executor.js';
import { unfenceServer } from '../failover/fence.js';

// May a master that answers read_only (restarted with read_only=ON in its my.cnf, as every
// production my.cnf should say) take writes again? Only when no other server could hold a write it
// lacks: a replica that is unreachable or ahead of it may carry the last acknowledged transactions,
// and making the master writable then would fork the data.

export interface SetWritableInput {
  readonly master: ServerObservation | undefined;
  /** Every other server but the fenced former masters, as just observed. */
  readonly replicas: readonly ServerObservation[];
}

export type SetWritableCheck =
  | { readonly ok: true; readonly checks: readonly string[] }
  | { readonly ok: false; readonly alreadyWritable: boolean; readonly problems: readonly string[] };

export function checkSetWritable({ master, replicas }: SetWritableInput): SetWritableCheck {
  if (!master?.reachable) {
    return { ok: false, alreadyWritable: false, problems: [`${master?.name ?? 'the master'} does not answer (${master?.failure?.message ?? 'not observed'}): it cannot be made writable; if it is dead, run failover`] };
  }
  if (master.readOnly === false) return { ok: false, alreadyWritable: true, problems: [`${master.name} is already writable`] };
  const flavor = master.flavor ?? 'mariadb';
  const mine = master.executedGtid ?? '';
  const checks = [`${master.name} answers, read_only, at ${mine || 'empty'}`];
  const problems: string[] = [];
  for (const r of replicas) {
    if (!r.reachable) {
      problems.push(`${r.name} does not answer (${r.failure?.message ?? 'not observed'}): it may hold a write ${master.name} lacks`);
      continue;
    }
    const theirs = r.executedGtid ?? '';
    if (!gtidContains(flavor, mine, theirs)) {
      problems.push(`${r.name} holds transactions ${master.name} lacks (${gtidMissing(flavor, theirs, mine)}): making ${master.name} writable would fork the data; fail over to ${r.name} instead`);
    } else {
      checks.push(`${r.name} holds nothing ${master.name} lacks (at ${theirs || 'empty'})`);
    }
  }
  return problems.length > 0 ? { ok: false, alreadyWritable: false, problems } : { ok: true, checks };
}

/** Makes the read_only master writable when checkSetWritable allows it; refusals carry the reasons. */
export async function setWritable(
  deps: ExecutorDeps,
  masterName: string,
  others: readonly string[],
): Promise<SetWritableResponse> {
  const { observer, cluster } = deps;
  const [master, ...replicas] = await observer.observeAll([masterName, ...others]);
  const checked = checkSetWritable({ master, replicas });
  const base = { cluster: cluster.name, master: masterName };
  if (!checked.ok) {
    return { ...base, outcome: checked.alreadyWritable ? 'already-writable' : 'refused', checks: [...checked.problems] };
  }
  await unfenceServer(await observer.session(masterName));
  return { ...base, outcome: 'writable', checks: [...checked.checks] };
}
