/**
 * Delay before retry number `attempt` (1-based) while no controller answers: full jitter, a random
 * wait between 0 and the exponential step `min`·2^(attempt−1) capped at `max`, from the first
 * retry on. A fleet that lost its controller at once then spreads its retries over the whole step
 * instead of coming back in one burst at its floor.
 *
 * The step is also never longer than the outage has lasted so far (`outageMs`, at least `min`):
 * refused connections fail at once, so the attempts pile up while a controller restarts, and an
 * agent would otherwise wait 8 or 16 s for a controller that was back after 2.
 */
export function backoffDelay(
  attempt: number,
  min: number,
  max: number,
  { outageMs = Number.POSITIVE_INFINITY, random = Math.random }: { outageMs?: number; random?: () => number } = {},
): number {
  const step = Math.min(max, min * 2 ** Math.max(0, attempt - 1), Math.max(min, outageMs));
  return Math.round(random() * step);
}

/**
 * Delay after a 503 whose Retry-After says `retryAfterMs`: between 1 and 2 times that, at random,
 * so that the agents shed together do not come back together.
 */
export function retryAfterDelay(retryAfterMs: number, random: () => number = Math.random): number {
  return Math.round(retryAfterMs * (1 + random()));
}

/**
 * Up to `min` at random: before an agent's first request, so that a fleet started at once does not
 * arrive at once; and before it moves to another controller after losing one, so that the share of
 * the fleet that one held (its connections all break at the same instant) does not arrive at once.
 */
export function spreadDelay(min: number, random: () => number = Math.random): number {
  return Math.round(random() * min);
}
