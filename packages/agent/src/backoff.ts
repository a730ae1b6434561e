/**
 * Delay before retry number `attempt` (1-based) while no controller answers: full jitter, a random
 * wait between 0 and the exponential step `min`·2^(attempt−1) capped at `max`, from the first
 * retry on. A fleet that lost its controller at once then spreads its retries over the whole step
 * instead of coming back in one burst at its floor.
 */
export function backoffDelay(
  attempt: number,
  min: number,
  max: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(max, min * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * step);
}
