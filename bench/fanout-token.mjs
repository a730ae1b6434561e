import { createHmac } from 'node:crypto';

/** The bench's token for agent `name`: the same in the bench and in every worker, one per agent. */
export function agentToken(seed, name) {
  return createHmac('sha256', seed).update(name).digest('hex');
}
