// May an automatic failover start now that the master is dead? A pure function: the switch in
// the config, an operator's maintenance pause, the anti-flapping block after the last failover,
// and the wait after a failed one.

export interface GateInput {
  readonly cluster: string;
  readonly master: string;
  readonly auto: boolean;
  /** The post-failover block, when one is in force. */
  readonly blockedUntil: Date | undefined;
  /** An operator's maintenance pause, when one is in force. */
  readonly paused: { readonly until: Date; readonly reason: string | null } | undefined;
  /** No attempt before this, when the last failover failed. */
  readonly retryAfter: Date | undefined;
  readonly now: Date;
}

export type Gate = { readonly go: true } | { readonly go: false; readonly sentence: string };

export function gate(input: GateInput): Gate {
  const { cluster, master } = input;
  if (!input.auto) {
    return {
      go: false,
      sentence: `${cluster}: ${master} is dead, automatic failover is off (failover.auto: false); run pullover-controller failover --cluster ${cluster}`,
    };
  }
  if (input.paused && input.paused.until > input.now) {
    const why = input.paused.reason ? ` (${input.paused.reason})` : '';
    return {
      go: false,
      sentence: `${cluster}: ${master} is dead, but automatic failover is paused until ${input.paused.until.toISOString()}${why}; pullover-controller resume --cluster ${cluster} re-arms it, failover --cluster ${cluster} forces one`,
    };
  }
  if (input.blockedUntil && input.blockedUntil > input.now) {
    return {
      go: false,
      sentence: `${cluster}: ${master} is dead, but automatic failover is blocked until ${input.blockedUntil.toISOString()} after the last one; check the cluster, then pullover-controller ack --cluster ${cluster} (or failover --cluster ${cluster} to force one)`,
    };
  }
  if (input.retryAfter && input.retryAfter > input.now) {
    return {
      go: false,
      sentence: `${cluster}: ${master} is dead; the last failover failed, the next attempt is at ${input.retryAfter.toISOString()} (see pullover-controller history; failover --cluster ${cluster} tries now)`,
    };
  }
  return { go: true };
}
