/**
 * Delay before retry number `attempt` (1-based) while no controller answers: exponential,
 * capped, with full jitter so a fleet that lost its controller at once does not come back at once.
 */
export function backoffDelay(
  attempt: number,
  min: number,
  max: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(max, min * 2 ** Math.max(0, attempt - 1));
  return Math.round(min + random() * Math.max(0, ceiling - min));
}
