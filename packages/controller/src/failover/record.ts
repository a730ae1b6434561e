import { randomBytes } from 'node:crypto';
import type { FailoverRecord } from '@pullover/protocol';

export interface OpenRecordInput {
  readonly cluster: string;
  readonly trigger: FailoverRecord['trigger'];
  readonly oldMaster: string;
  readonly target: string;
  /** The detector's sentence (automatic) or the operator's reason (manual). */
  readonly reason: string;
  /** The planner's sentence. */
  readonly plan: string;
  /** The last ping the old master answered; the first one it failed; when its death was confirmed. */
  readonly lastAnswer: Date;
  readonly firstFailure: Date;
  readonly confirmed: Date;
}

/** "20261124T050254-b293eb": sortable by time, unique across controllers. */
export function failoverId(at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}

/** A new failover's record, with what happened before the first action: detected, confirmed. */
export function openRecord(input: OpenRecordInput): FailoverRecord {
  const detectedMs = Math.max(0, input.firstFailure.getTime() - input.lastAnswer.getTime());
  return {
    id: failoverId(input.confirmed),
    cluster: input.cluster,
    trigger: input.trigger,
    old_master: input.oldMaster,
    new_master: input.target,
    started_at: input.firstFailure.toISOString(),
    finished_at: null,
    outcome: 'running',
    version: null,
    reason: input.reason,
    steps: [
      {
        name: 'detected',
        at: input.firstFailure.toISOString(),
        ms: detectedMs,
        detail: `first failed ping of ${input.oldMaster}; the last answer came ${detectedMs} ms before`,
      },
      {
        name: 'confirmed',
        at: input.confirmed.toISOString(),
        ms: Math.max(0, input.confirmed.getTime() - input.firstFailure.getTime()),
        detail: `${input.reason}; ${input.plan}`,
      },
    ],
  };
}
