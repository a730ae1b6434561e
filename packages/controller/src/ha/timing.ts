// How long a leader may trust its lease, and the start-time rule that keeps a healthy leader from
// losing it: pure arithmetic, shared by the config check and the lease.

/** etcd raises a shorter TTL to its minimum (1.5 election timeouts, rounded up: 2 s by default). */
export const MIN_LEASE_TTL_MS = 2000;

export interface LeaseTiming {
  /** The lease's TTL as asked of etcd (whole seconds). */
  readonly ttlMs: number;
  /**
   * Taken off the TTL before the lease counts as gone: etcd starts the TTL when a keepalive arrives,
   * after we sent it, so expiry is never earlier than send + TTL by etcd's clock; the margin covers
   * the two clocks' rates and the time between reading timeLeftMs() and a statement reaching MySQL.
   */
  readonly marginMs: number;
  /** Time between keepalives: the monitor's interval, like the loop that acts on it. */
  readonly keepaliveMs: number;
  /** The longest one etcd call may take, every endpoint and retry included. */
  readonly retryTimeoutMs: number;
}

export function leaseMarginMs(ttlMs: number): number {
  return Math.max(500, ttlMs / 10);
}

export function leaseTiming(ttlMs: number, retryTimeoutMs: number, monitorIntervalMs: number): LeaseTiming {
  return { ttlMs, marginMs: leaseMarginMs(ttlMs), keepaliveMs: Math.max(100, monitorIntervalMs), retryTimeoutMs };
}

/**
 * Why the timing cannot hold a lease, or undefined. Rule: TTL − margin ≥ monitor interval + 2 × retry
 * budget. A keepalive goes out every interval; one that fails costs up to the retry budget, and so
 * does the next: two failed keepalives in a row (a member dying, then another call timing out) must
 * still leave the third inside the TTL, or a healthy leader would be deposed by one slow member.
 */
export function leaseTimingProblem(timing: LeaseTiming): string | undefined {
  const { ttlMs, marginMs, keepaliveMs, retryTimeoutMs } = timing;
  if (ttlMs % 1000 !== 0) return `lease_ttl must be whole seconds (etcd counts leases in seconds); got ${ttlMs} ms`;
  if (ttlMs < MIN_LEASE_TTL_MS) return `lease_ttl must be at least ${MIN_LEASE_TTL_MS / 1000}s (etcd raises shorter ones)`;
  const needed = keepaliveMs + 2 * retryTimeoutMs + marginMs;
  if (ttlMs < needed) {
    return (
      `lease_ttl ${ttlMs / 1000}s is too short: it must cover the longest monitor.interval (${keepaliveMs} ms) `
      + `+ 2 × retry_timeout (${retryTimeoutMs} ms) + the safety margin (${marginMs} ms) = ${needed} ms; `
      + 'raise lease_ttl or lower retry_timeout'
    );
  }
  return undefined;
}
